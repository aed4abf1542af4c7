package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/firn/firn/internal/version"
)

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantErrOut string
	}{
		{name: "no args", args: nil, code: 2, wantErrOut: "Usage:"},
		{name: "help", args: []string{"help"}, code: 0, wantOut: "firn sql"},
		{name: "version", args: []string{"version"}, code: 0, wantOut: "firn " + version.Version + " (Snowflake " + version.Snowflake},
		{name: "version extra arg", args: []string{"version", "x"}, code: 2, wantErrOut: "unexpected argument"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, wantErrOut: `unknown command "frobnicate"`},
		{name: "sql bad flag", args: []string{"sql", "--nope"}, code: 2, wantErrOut: "flag provided but not defined"},
		{name: "sql bad format", args: []string{"sql", "--format", "xml"}, code: 2, wantErrOut: "--format must be"},
		{name: "sql help", args: []string{"sql", "-h"}, code: 0, wantErrOut: "Usage: firn sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErrOut) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}

func TestServeDebugRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "example.com:0", "nonsense"} {
		if err := serveDebug(t.Context(), addr, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("serveDebug(%q) = nil, want an error", addr)
		}
	}
	if err := serveDebug(t.Context(), "127.0.0.1:0", slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("serveDebug(127.0.0.1:0) = %v", err)
	}
}
