package wire

import (
	"bufio"
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firn/firn/internal/result"
)

// Result chunks (reference §3.4). A result larger than inlineMaxRows rows or
// inlineMaxBytes bytes of rowset JSON is answered with its first rows inline and the
// rest as chunks the driver downloads with GET <chunkPathPrefix><queryId>/<n>, sending
// the chunkHeaders of the reply. The rows stay in memory once, as the statement's Go
// values: a chunk's JSON is encoded when it is requested and streamed (gzip when the
// driver accepts it).
const (
	inlineMaxRows    = 1000
	inlineMaxBytes   = 1 << 20
	chunkTargetBytes = 1 << 20

	chunkPathPrefix = "/firn/chunks/"
	// chunkKeyHeader carries a result's chunk key. Drivers send chunkHeaders with every
	// chunk request; without the key (256 random bits) a chunk is not served.
	chunkKeyHeader = "X-Firn-Chunk-Key"
)

// chunkSet is a result's rows beyond the inline rowset, split into chunks.
type chunkSet struct {
	key   string
	cols  []result.Column
	rows  [][]any // the statement's rows (shared, never modified)
	loc   *time.Location
	style result.EpochStyle
	// bounds[i] and bounds[i+1] delimit chunk i's rows; sizes[i] is its body length.
	bounds []int
	sizes  []int64
}

// chunkMeta is one entry of a reply's chunks array.
type chunkMeta struct {
	URL              string `json:"url"`
	RowCount         int    `json:"rowCount"`
	UncompressedSize int64  `json:"uncompressedSize"`
	CompressedSize   int64  `json:"compressedSize"`
}

// encodeResultRows encodes set's rows: the inline rowset (a JSON array) and, when the
// result is larger than the inline limits, the chunkSet for the rest. Every row is
// encoded here once (and the chunks' encodings discarded), so an unencodable value
// fails the statement rather than a chunk download, and chunk sizes are exact.
func encodeResultRows(set *result.Set, loc *time.Location, style result.EpochStyle) ([]byte, int, *chunkSet, error) {
	inline := []byte{'['}
	n := 0
	for n < len(set.Rows) && n < inlineMaxRows && len(inline) < inlineMaxBytes {
		if n > 0 {
			inline = append(inline, ',')
		}
		var err error
		if inline, err = result.AppendRowJSON(inline, set.Rows[n], set.Columns, loc, style); err != nil {
			return nil, 0, nil, fmt.Errorf("row %d: %w", n, err)
		}
		n++
	}
	inline = append(inline, ']')
	if n == len(set.Rows) {
		return inline, n, nil, nil
	}
	key, err := newChunkKey()
	if err != nil {
		return nil, 0, nil, err
	}
	cs := &chunkSet{key: key, cols: set.Columns, rows: set.Rows, loc: loc, style: style, bounds: []int{n}}
	var (
		buf  []byte
		size int64
	)
	for i := n; i < len(set.Rows); i++ {
		buf, err = result.AppendRowJSON(buf[:0], set.Rows[i], set.Columns, loc, style)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("row %d: %w", i, err)
		}
		if i > cs.bounds[len(cs.bounds)-1] {
			size++ // the comma before the row
		}
		size += int64(len(buf))
		if size >= chunkTargetBytes || i == len(set.Rows)-1 {
			cs.bounds = append(cs.bounds, i+1)
			cs.sizes = append(cs.sizes, size)
			size = 0
		}
	}
	return inline, n, cs, nil
}

func newChunkKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("wire: chunk key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// count returns the number of chunks.
func (cs *chunkSet) count() int { return len(cs.sizes) }

// metas returns the chunks array for a reply; base is the scheme and host the query
// request came to.
func (cs *chunkSet) metas(base, queryID string) []chunkMeta {
	out := make([]chunkMeta, cs.count())
	for i := range out {
		out[i] = chunkMeta{
			URL:              base + chunkPathPrefix + queryID + "/" + strconv.Itoa(i),
			RowCount:         cs.bounds[i+1] - cs.bounds[i],
			UncompressedSize: cs.sizes[i],
			// Compressed on the fly when the driver accepts gzip; drivers use these
			// sizes only for logging and memory estimates.
			CompressedSize: cs.sizes[i],
		}
	}
	return out
}

// writeChunk streams chunk i's rows: JSON arrays separated by commas, no brackets.
func (cs *chunkSet) writeChunk(w io.Writer, i int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		buf []byte
		err error
	)
	for r := cs.bounds[i]; r < cs.bounds[i+1]; r++ {
		buf = buf[:0]
		if r > cs.bounds[i] {
			buf = append(buf, ',')
		}
		if buf, err = result.AppendRowJSON(buf, cs.rows[r], cs.cols, cs.loc, cs.style); err != nil {
			return fmt.Errorf("row %d: %w", r, err)
		}
		if _, err = bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// baseURL is the scheme and host a request came to, for absolute chunk URLs.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleChunk serves GET /firn/chunks/{id}/{n}. It answers 404 alike for an unknown
// query, chunk or key, so nothing about other results can be learned; chunks live as
// long as their result is kept (ResultRetention, MaxResultsPerSession, and never past
// the session's close), and the ingress guard applies to the owning user.
func (s *Server) handleChunk(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("n"))
	q := s.queries.lookupAny(id)
	var cs *chunkSet
	if q != nil && q.finished() {
		cs = q.chunks
	}
	key := r.Header.Get(chunkKeyHeader)
	if cs == nil || err != nil || n < 0 || n >= cs.count() || subtle.ConstantTimeCompare([]byte(key), []byte(cs.key)) != 1 {
		s.handleNotFound(w, r)
		return
	}
	if s.ingress != nil {
		if e := s.ingress.Enforce(r.Context(), q.account, q.user, clientIP(r)); e != nil {
			s.writeError(w, r, e, nil)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	var out io.Writer = w
	var gz *gzip.Writer
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = gz
	} else {
		h.Set("Content-Length", strconv.FormatInt(cs.sizes[n], 10))
	}
	w.WriteHeader(http.StatusOK)
	err = cs.writeChunk(out, n)
	if err == nil && gz != nil {
		err = gz.Close()
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "wire: write result chunk", "query_id", id, "chunk", n, "err", err)
		// The status is sent: break the connection so that the driver cannot take a
		// cut-short body for the whole chunk.
		panic(http.ErrAbortHandler)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}
