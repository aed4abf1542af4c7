package creds

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// BenchmarkResolveCached measures a Resolve answered from the decision and token
// caches, with the default audit writer: the row is queued on the call path and
// written in batches in the background (whose cost BenchmarkAuditWrite/batched
// isolates), which shares the CPU with the timed loop.
func BenchmarkResolveCached(b *testing.B) {
	for _, kind := range []string{"PASSWORD", "CLOUD_PROVIDER_TOKEN", "OAUTH2"} {
		b.Run(kind, func(b *testing.B) {
			f := newBenchFixture(b)
			name := map[string]string{"PASSWORD": "PW", "CLOUD_PROVIDER_TOKEN": "AWS", "OAUTH2": "OA"}[kind]
			br := f.broker()
			ctx := context.Background()
			if _, err := br.Resolve(ctx, app, []string{"EAI"}, ref(name)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := br.Resolve(ctx, app, []string{"EAI"}, ref(name)); err != nil {
					b.Fatal(err)
				}
			}
			if err := br.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			// Process CPU time per call, the audit rows' writing included: unlike
			// ns/op it does not grow when other processes hold the CPU.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkResolveCachedParallel is BenchmarkResolveCached/CLOUD_PROVIDER_TOKEN from
// GOMAXPROCS goroutines, end to end: with the default audit writer running.
func BenchmarkResolveCachedParallel(b *testing.B) {
	f := newBenchFixture(b)
	br := f.broker()
	ctx := context.Background()
	if _, err := br.Resolve(ctx, app, []string{"EAI"}, ref("AWS")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := br.Resolve(ctx, app, []string{"EAI"}, ref("AWS")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuditWrite compares writing audit rows one store transaction per row with
// the broker's batched writer.
func BenchmarkAuditWrite(b *testing.B) {
	// Distinct events (one workload each), so that every one is a row of its own.
	var seq int
	rec := func() *store.CredsAuditRecord {
		seq++
		return &store.CredsAuditRecord{Account: acct, Role: appRole, Workload: "FUNCTION DB.SCH.F" + strconv.Itoa(seq),
			Secret: "DB.SCH.PW", SecretType: TypePassword, Integration: "EAI", Outcome: OutcomeIssued, Source: SourceStore}
	}
	b.Run("per-call", func(b *testing.B) {
		f := newBenchFixture(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := writeAudit(context.Background(), f.st, []*store.CredsAuditRecord{rec()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batched", func(b *testing.B) {
		f := newBenchFixture(b)
		w := newAuditWriter(f.st, nil, DefaultAuditFlushInterval)
		defer w.close()
		b.ReportAllocs()
		for b.Loop() {
			w.add(rec())
		}
		if err := w.flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
	// The same event repeated (a hot cached secret): aggregated into one row per flush.
	b.Run("batched-identical", func(b *testing.B) {
		f := newBenchFixture(b)
		w := newAuditWriter(f.st, nil, DefaultAuditFlushInterval)
		defer w.close()
		r := &store.CredsAuditRecord{Account: acct, Role: appRole, Workload: "FUNCTION DB.SCH.F", Secret: "DB.SCH.PW",
			SecretType: TypePassword, Integration: "EAI", Outcome: OutcomeIssued, Source: SourceStore}
		b.ReportAllocs()
		for b.Loop() {
			w.add(r)
		}
		if err := w.flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

// newBenchFixture is newFixture with a PASSWORD secret PW, a CLOUD_PROVIDER_TOKEN
// secret AWS (STS through the recording proxy in front of moto), an OAUTH2 secret OA
// and an EAI allowing all three.
func newBenchFixture(b *testing.B) *fixture {
	f := newFixture(b)
	newSTSProxy(b)
	ts := newTokenServer(b)
	f.secret(&catalog.Secret{Name: "PW", Type: catalog.SecretPassword, Username: "u"}, &catalog.SecretValue{Password: password})
	f.integration(&catalog.Integration{Name: "AWS_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeAWSIAM,
		Enabled: true, AWSRoleARN: roleARN, AWSExternalID: extID}, "")
	f.secret(&catalog.Secret{Name: "AWS", Type: catalog.SecretCloudProviderToken, APIAuthentication: "AWS_INT"}, nil)
	f.integration(&catalog.Integration{Name: "OAUTH_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
		Enabled: true, OAuthTokenEndpoint: ts.URL, OAuthClientID: "client-1"}, clientSc)
	f.secret(&catalog.Secret{Name: "OA", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT"}, nil)
	f.eai("EAI", catalog.SecretsAll, nil)
	f.allowEgress("EAI", ts.URL)
	return f
}
