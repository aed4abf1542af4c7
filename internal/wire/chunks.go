package wire

import (
	"bytes"
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
	"github.com/firn/firn/internal/sferr"
)

// Result chunks (reference §3.4). A result larger than inlineMaxRows rows or
// inlineMaxBytes bytes of rowset JSON is answered with its first rows inline and the
// rest as chunks the driver downloads with GET <chunkPathPrefix><queryId>/<n>, sending
// the chunkHeaders of the reply.
//
// Each row is encoded once, when the statement ends, straight from the statement's Go
// values into its chunk's JSON, which is kept gzip-compressed; the Go values are not
// kept (they take several times the JSON's size), nor is any uncompressed copy. A
// chunk is sent as stored to drivers that accept gzip (both do) and decompressed on
// the fly for others.
const (
	inlineMaxRows  = 1000
	inlineMaxBytes = 1 << 20

	chunkPathPrefix = "/firn/chunks/"
	// chunkKeyHeader carries a result's chunk key. Drivers send chunkHeaders with every
	// chunk request; without the key (256 random bits) a chunk is not served.
	chunkKeyHeader = "X-Firn-Chunk-Key"
)

// chunkTargetBytes is the uncompressed size a chunk is cut at (its last row may pass
// it); a variable so that tests can make small results span several chunks.
var chunkTargetBytes int64 = 1 << 20

// chunkSet is a result's rows beyond the inline rowset, as gzip-compressed chunks.
type chunkSet struct {
	key   string
	gz    [][]byte // chunk i's body, gzip-compressed
	rows  []int    // chunk i's row count
	sizes []int64  // chunk i's uncompressed length
}

// chunkMeta is one entry of a reply's chunks array.
type chunkMeta struct {
	URL              string `json:"url"`
	RowCount         int    `json:"rowCount"`
	UncompressedSize int64  `json:"uncompressedSize"`
	CompressedSize   int64  `json:"compressedSize"`
}

// encodeResultRows encodes set's rows: the inline rowset (a JSON array) and, when the
// result is larger than the inline limits, the chunkSet for the rest. An unencodable
// value fails the statement, never a chunk download.
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
	cs := &chunkSet{key: key}
	var (
		out  bytes.Buffer
		zw   *gzip.Writer
		buf  []byte
		rows int
		size int64
	)
	zw, _ = gzip.NewWriterLevel(&out, gzip.BestSpeed)
	for i := n; i < len(set.Rows); i++ {
		buf = buf[:0]
		if rows > 0 {
			buf = append(buf, ',')
		}
		if buf, err = result.AppendRowJSON(buf, set.Rows[i], set.Columns, loc, style); err != nil {
			return nil, 0, nil, fmt.Errorf("row %d: %w", i, err)
		}
		if _, err = zw.Write(buf); err != nil {
			return nil, 0, nil, fmt.Errorf("wire: compress chunk: %w", err)
		}
		rows++
		size += int64(len(buf))
		if size >= chunkTargetBytes || i == len(set.Rows)-1 {
			if err = zw.Close(); err != nil {
				return nil, 0, nil, fmt.Errorf("wire: compress chunk: %w", err)
			}
			b := bytes.Clone(out.Bytes())
			cs.gz = append(cs.gz, b)
			cs.rows = append(cs.rows, rows)
			cs.sizes = append(cs.sizes, size)
			out.Reset()
			zw.Reset(&out)
			rows, size = 0, 0
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
func (cs *chunkSet) count() int { return len(cs.gz) }

// metas returns the chunks array for a reply; base is the scheme and host the query
// request came to.
func (cs *chunkSet) metas(base, queryID string) []chunkMeta {
	out := make([]chunkMeta, cs.count())
	for i := range out {
		out[i] = chunkMeta{
			URL:              base + chunkPathPrefix + queryID + "/" + strconv.Itoa(i),
			RowCount:         cs.rows[i],
			UncompressedSize: cs.sizes[i],
			CompressedSize:   int64(len(cs.gz[i])),
		}
	}
	return out
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
	// Not application/json: a chunk body alone is not a JSON document, and the Node
	// driver's HTTP client parses application/json bodies (as from S3, octet-stream).
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(cs.gz[n])))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cs.gz[n])
		return
	}
	h.Set("Content-Length", strconv.FormatInt(cs.sizes[n], 10))
	zr, err := gzip.NewReader(bytes.NewReader(cs.gz[n]))
	if err != nil {
		s.log.ErrorContext(r.Context(), "wire: read result chunk", "query_id", id, "chunk", n, "err", err)
		s.writeError(w, r, sferr.Internal(), nil)
		return
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, zr); err != nil {
		// The status is sent: break the connection so that the driver cannot take a
		// cut-short body for the whole chunk.
		s.log.ErrorContext(r.Context(), "wire: write result chunk", "query_id", id, "chunk", n, "err", err)
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
