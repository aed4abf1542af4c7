package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/server"
	"github.com/firn/firn/internal/version"
)

// runServe implements `firn serve`.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8765", "address to listen on")
	dataDir := fs.String("data-dir", ".firn", "directory for the store and generated files")
	account := fs.String("account", "FIRN", "name of the organisation account created on first start")
	certFile := fs.String("tls-cert-file", "", "PEM certificate chain; serves HTTPS with --tls-key-file")
	keyFile := fs.String("tls-key-file", "", "PEM private key for --tls-cert-file")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	proxyFrom := fs.String("proxy-protocol-from", "", "CIDR[,CIDR...] of load balancers whose connections must start with a PROXY v1/v2 header (client IP, VPC endpoint ID / Azure LinkID)")
	proxyTimeout := fs.Duration("proxy-header-timeout", 0, "how long a connection may take to send its PROXY header (default 5s)")
	azureARMURL := fs.String("azure-arm-url", "", "Azure Resource Manager URL for private-endpoint ownership checks (default https://management.azure.com)")
	masterKeyFile := fs.String("master-key-file", "", "master key file (default <data-dir>/master.key, created 0600 on first start); $FIRN_MASTER_KEY overrides it")
	debugListen := fs.String("debug-listen", "", "loopback address (127.0.0.1:port) serving Go's /debug/pprof/ profiling endpoints; off by default")
	awsIAMUserARN := fs.String("aws-iam-user-arn", "", "IAM user ARN firn calls STS as, shown by DESC INTEGRATION (default arn:aws:iam::000000000000:user/firn)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))}
	}
	trusted, err := edge.ParseProxyFrom(*proxyFrom)
	if err != nil {
		return usageError{fmt.Errorf("serve: --proxy-protocol-from: %w", err)}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Errorf("serve: --log-level: %w", err)}
	}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(*logFormat) {
	case "text":
		h = slog.NewTextHandler(stderr, hopts)
	case "json":
		h = slog.NewJSONHandler(stderr, hopts)
	default:
		return usageError{fmt.Errorf("serve: --log-format must be text or json")}
	}
	log := slog.New(h)
	// Packages that log through the default logger (the store's migration notice)
	// follow the same level and format.
	slog.SetDefault(log)
	tuneGC(log)

	if *debugListen != "" {
		if err := serveDebug(ctx, *debugListen, log); err != nil {
			return usageError{fmt.Errorf("serve: %w", err)}
		}
	}

	srv, err := server.New(ctx, server.Config{
		DataDir: *dataDir, Account: *account, AdminPassword: os.Getenv("FIRN_ADMIN_PASSWORD"), Logger: log,
		MasterKeyFile: *masterKeyFile, MasterKey: os.Getenv("FIRN_MASTER_KEY"), AWSIAMUserARN: *awsIAMUserARN,
		AzureARMURL: *azureARMURL,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := edge.Listen(ctx, edge.Config{Addr: *listen, TLSCertFile: *certFile, TLSKeyFile: *keyFile,
		ProxyFrom: trusted, ProxyHeaderTimeout: *proxyTimeout})
	if err != nil {
		return err
	}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	log.Info("firn serving", slog.String("version", version.Version), slog.String("addr", ln.Addr().String()),
		slog.String("scheme", scheme), slog.String("data_dir", *dataDir))
	_ = stdout
	return srv.Serve(ctx, ln)
}

// usageError marks a command-line mistake; main exits with status 2 for it.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }
