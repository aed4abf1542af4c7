package sqlcli

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/snowflakedb/gosnowflake"
)

// ErrUsage marks errors in the command line; firn exits with status 2 for them.
var ErrUsage = errors.New("usage error")

// ErrReported marks an error that Run has already printed to stderr (a failed
// statement in one-shot mode); the caller should exit 1 without printing it again.
var ErrReported = errors.New("statement failed")

// Options configures Run.
type Options struct {
	// Connection is the connection name (-c); empty means the default.
	Connection string
	// Settings are connection settings from the command line, keyed by the
	// canonical names in Keys. They override every other source.
	Settings map[string]string
	// Query is SQL text to run (-q), one or more ';'-separated statements.
	Query string
	// File is a file of statements to run (-f).
	File string
	// Format is table (default), json or csv.
	Format string
	// DriverLogLevel is gosnowflake's log level; empty means off.
	DriverLogLevel string
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv LookupEnv
}

// ParseFlags parses the arguments of `firn sql`. Errors wrap ErrUsage, or are
// flag.ErrHelp when help was asked for (usage has then been printed to output).
func ParseFlags(args []string, output io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("firn sql", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.Connection, "c", "", "connection `name` in connections.toml/config.toml")
	fs.StringVar(&o.Connection, "connection", "", "connection `name` (same as -c)")
	fs.StringVar(&o.Query, "q", "", "run the `sql` and exit")
	fs.StringVar(&o.Query, "query", "", "run the `sql` and exit (same as -q)")
	fs.StringVar(&o.File, "f", "", "run the statements in `file` and exit")
	fs.StringVar(&o.File, "filename", "", "run the statements in `file` and exit (same as -f)")
	fs.StringVar(&o.Format, "format", FormatTable, "output `format`: table, json or csv")
	fs.StringVar(&o.DriverLogLevel, "driver-log-level", "", "gosnowflake log `level` (debug, info, warn, error); off when empty")
	settings := map[string]*string{}
	for _, k := range Keys {
		if k == "private_key_file_pwd" || k == "token_file_path" {
			continue // only from files and the environment, as in the Snowflake CLI
		}
		settings[k] = fs.String(strings.ReplaceAll(k, "_", "-"), "", "connection "+strings.ReplaceAll(k, "_", " "))
	}
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: firn sql [flags] [-q SQL | -f FILE]\n\n"+
			"Runs SQL against firn (or Snowflake) through gosnowflake. Without -q or -f it reads\n"+
			"statements from standard input, interactively when that is a terminal.\n\n"+
			"Settings come from flags, SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>, $SNOWFLAKE_HOME/connections.toml\n"+
			"or config.toml (default ~/.snowflake), then SNOWFLAKE_<KEY>; defaults: host %s, port %d,\n"+
			"protocol %s, account %s.\n\nFlags:\n", DefaultHost, DefaultPort, DefaultProtocol, DefaultAccount)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if o.Query != "" && o.File != "" {
		return o, fmt.Errorf("%w: -q and -f are mutually exclusive", ErrUsage)
	}
	switch o.Format {
	case FormatTable, FormatJSON, FormatCSV:
	default:
		return o, fmt.Errorf("%w: --format must be table, json or csv, not %q", ErrUsage, o.Format)
	}
	fs.Visit(func(f *flag.Flag) {
		k := strings.ReplaceAll(f.Name, "-", "_")
		if p, ok := settings[k]; ok {
			if o.Settings == nil {
				o.Settings = map[string]string{}
			}
			o.Settings[k] = *p
		}
	})
	return o, nil
}

// Run resolves the connection, connects and runs statements from o.Query,
// o.File or stdin (interactively when stdin is a terminal), writing results
// to stdout and diagnostics to stderr. In one-shot mode the first failing
// statement is printed as "Error: <code> (<sqlstate>): <message>" and Run
// returns an error wrapping ErrReported; interactively it goes on.
func Run(ctx context.Context, o Options, stdin io.Reader, stdout, stderr io.Writer) error {
	conn, err := ResolveConnection(o.Connection, o.Settings, o.LookupEnv, stderr)
	if err != nil {
		return err
	}

	var text string
	interactive := false
	switch {
	case o.Query != "":
		text = o.Query
	case o.File != "":
		b, err := os.ReadFile(o.File)
		if err != nil {
			return fmt.Errorf("reading statements: %w", err)
		}
		text = string(b)
	default:
		interactive = isTerminal(stdin)
	}

	// The driver logs through a process-wide logger; keep it quiet unless asked.
	logger := gosnowflake.GetLogger()
	if o.DriverLogLevel == "" || strings.EqualFold(o.DriverLogLevel, "off") {
		logger.SetOutput(io.Discard)
	} else {
		logger.SetOutput(stderr)
		if err := logger.SetLogLevel(o.DriverLogLevel); err != nil {
			return fmt.Errorf("%w: driver log level: %w", ErrUsage, err)
		}
	}

	db, err := conn.Open()
	if err != nil {
		return fmt.Errorf("connection %q: %w", conn.Name, err)
	}
	defer db.Close()
	// One connection, so session state (USE, ALTER SESSION) carries over.
	c, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to %s://%s:%d as %s: %w", conn.Protocol, conn.Host, conn.Port, conn.User, err)
	}
	defer c.Close()
	ex := &dbExecutor{conn: c}

	if interactive {
		prompt := strings.ToUpper(strings.TrimSpace(conn.Account + " " + conn.User))
		return repl(ctx, ex, o.Format, prompt, stdin, stdout, stderr)
	}
	if text == "" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		text = string(b)
	}
	return runScript(ctx, ex, o.Format, text, stdout, stderr)
}

// executor runs one statement and returns its rendered result.
type executor interface {
	exec(ctx context.Context, stmt string) (*resultSet, error)
}

// runScript runs every statement of text, stopping at the first error.
func runScript(ctx context.Context, ex executor, format, text string, stdout, stderr io.Writer) error {
	stmts, err := splitScript(text)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return fmt.Errorf("%w: %w", ErrReported, err)
	}
	for _, stmt := range stmts {
		if err := runOne(ctx, ex, format, stmt, stdout, stderr); err != nil {
			return err
		}
	}
	return nil
}

// runOne runs and prints one statement. Statement errors are printed and
// returned wrapped in ErrReported; output errors are returned as they are.
func runOne(ctx context.Context, ex executor, format, stmt string, stdout, stderr io.Writer) error {
	rs, err := ex.exec(ctx, stmt)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return fmt.Errorf("%w: %w", ErrReported, err)
	}
	if err := write(stdout, format, rs); err != nil {
		return fmt.Errorf("writing result: %w", err)
	}
	return nil
}

// repl reads statements terminated by ';' and runs each as soon as it is
// complete. It ends at EOF or on !exit, !quit, exit or quit.
func repl(ctx context.Context, ex executor, format, name string, in io.Reader, stdout, stderr io.Writer) error {
	prompt := name + "> "
	cont := strings.Repeat(" ", max(len(prompt)-3, 0)) + "-> "
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var pending strings.Builder
	fmt.Fprint(stdout, prompt)
	for sc.Scan() {
		line := sc.Text()
		if pending.Len() == 0 {
			switch strings.ToLower(strings.TrimRight(strings.TrimSpace(line), ";")) {
			case "!exit", "!quit", "exit", "quit":
				return nil
			}
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		stmts, rest := completeStatements(pending.String())
		for _, stmt := range stmts {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := runOne(ctx, ex, format, stmt, stdout, stderr); err != nil && !errors.Is(err, ErrReported) {
				return err
			}
		}
		pending.Reset()
		if strings.TrimSpace(rest) != "" {
			pending.WriteString(rest)
			fmt.Fprint(stdout, cont)
		} else {
			fmt.Fprint(stdout, prompt)
		}
	}
	fmt.Fprintln(stdout)
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	if stmts, err := splitScript(pending.String()); err != nil || len(stmts) > 0 {
		fmt.Fprintln(stderr, "Warning: discarded the unterminated statement at end of input (end statements with ';')")
	}
	return nil
}

// isTerminal reports whether r is a character device such as a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// dbExecutor runs statements on one database/sql connection.
type dbExecutor struct {
	conn *sql.Conn
}

func (e *dbExecutor) exec(ctx context.Context, stmt string) (*resultSet, error) {
	rows, err := e.conn.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return readRows(rows)
}

func readRows(rows *sql.Rows) (*resultSet, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("reading columns: %w", err)
	}
	rs := &resultSet{Columns: make([]column, len(types))}
	for i, t := range types {
		rs.Columns[i] = column{Name: t.Name(), Type: strings.ToUpper(t.DatabaseTypeName())}
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading row: %w", err)
		}
		row := make([]cell, len(vals))
		for i, v := range vals {
			row[i] = renderValue(v, rs.Columns[i].Type)
		}
		rs.Rows = append(rs.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return rs, nil
}
