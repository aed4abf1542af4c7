package netpolicy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/firn/firn/internal/sferr"
)

func TestValidateRuleTypeMode(t *testing.T) {
	legal := map[[2]string]bool{}
	for typ, modes := range legalModes {
		for _, m := range modes {
			legal[[2]string{typ, m}] = true
		}
	}
	types := []string{TypeIPv4, TypeIPv6, TypeAWSVPCEID, TypeAzureLinkID, TypeGCPPSCID, TypeHostPort, TypePrivateHostPort, TypeComputePool}
	for _, typ := range types {
		for m := range allModes {
			_, err := ValidateRule(typ, m, nil)
			if got := err == nil; got != legal[[2]string{typ, m}] {
				t.Errorf("ValidateRule(%s, %s): err = %v, want legal=%v", typ, m, err, legal[[2]string{typ, m}])
			}
		}
	}
	// Spot checks from reference §3.
	for _, tc := range []struct {
		typ, mode string
		ok        bool
	}{
		{"ipv4", "", true}, // default MODE is INGRESS; case-insensitive
		{"IPV6", "EGRESS", false},
		{"HOST_PORT", "INGRESS", false},
		{"HOST_PORT", "", false},
		{"AWSVPCEID", "INTERNAL_STAGE", true},
		{"AZURELINKID", "INTERNAL_STAGE", false},
		{"PRIVATE_HOST_PORT", "EGRESS", true},
		{"IPV4", "POSTGRES_INGRESS", true},
		{"BOGUS", "INGRESS", false},
		{"IPV4", "BOGUS", false},
	} {
		_, err := ValidateRule(tc.typ, tc.mode, nil)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRule(%q, %q) err = %v, want ok=%v", tc.typ, tc.mode, err, tc.ok)
		}
	}
}

func TestValidateRuleValues(t *testing.T) {
	tests := []struct {
		typ, mode string
		in        []string
		want      []string // nil: expect an error
	}{
		{TypeIPv4, "", []string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}},
		{TypeIPv4, "", []string{"192.168.1.0/24", "10.1.2.3", "10.1.2.3/32"}, []string{"192.168.1.0/24", "10.1.2.3"}},
		{TypeIPv4, "", []string{"10.1.2.3/8"}, []string{"10.0.0.0/8"}},
		{TypeIPv4, "", []string{"10.0.0.256"}, nil},
		{TypeIPv4, "", []string{"10.0.0.1/33"}, nil},
		{TypeIPv4, "", []string{"010.0.0.1"}, nil},
		{TypeIPv4, "", []string{"::1"}, nil},
		{TypeIPv4, "", []string{""}, nil},
		{TypeIPv6, "", []string{"2001:DB8::/32", "::ffff:1.2.3.4", "2001:0db8:0000:0000:0000:0000:0000:0001"}, []string{"2001:db8::/32", "::ffff:1.2.3.4", "2001:db8::1"}},
		{TypeIPv6, "", []string{"1.2.3.4"}, nil},
		{TypeIPv6, "", []string{"fe80::1%eth0"}, nil},
		{TypeAWSVPCEID, "", []string{"vpce-0fa383eb170331202", "VPCE-123456AB"}, []string{"vpce-0fa383eb170331202", "vpce-123456ab"}},
		{TypeAWSVPCEID, "", []string{"vpc-0fa383eb170331202"}, nil}, // VPC ids are rejected
		{TypeAWSVPCEID, "", []string{"vpce-1234567"}, nil},
		{TypeAWSVPCEID, "", []string{"vpce-0fa383eb1703312020"}, nil},
		{TypeAWSVPCEID, "", []string{"vpce-0fa383eb17033120g"}, nil},
		{TypeAzureLinkID, "", []string{"587732213"}, []string{"587732213"}},
		{TypeAzureLinkID, "", []string{"abc"}, nil},
		{TypeGCPPSCID, "", []string{"123456789", "{123: 10.0.0.1/24,10.1.1.1}"}, []string{"123456789", "{123:10.0.0.0/24,10.1.1.1}"}},
		{TypeGCPPSCID, "", []string{"{abc:10.0.0.1}"}, nil},
		{TypeGCPPSCID, "", []string{"{123:}"}, nil},
		{TypeHostPort, ModeEgress, []string{"example.com", "Example.COM:443", "*.google.com", "snowflake-*.google.com:0", "api.x.com:8000-8100"},
			[]string{"example.com", "example.com:443", "*.google.com", "snowflake-*.google.com:0", "api.x.com:8000-8100"}},
		{TypeHostPort, ModeEgress, []string{"0.0.0.0", "0.0.0.0:80", "0.0.0.0:443"}, []string{"0.0.0.0", "0.0.0.0:80", "0.0.0.0:443"}},
		{TypeHostPort, ModeEgress, []string{"0.0.0.0:8080"}, nil},
		{TypeHostPort, ModeEgress, []string{"0.0.0.0:0"}, nil},
		{TypeHostPort, ModeEgress, []string{"a.*.google.com"}, nil}, // only the leftmost label
		{TypeHostPort, ModeEgress, []string{"**.google.com"}, nil},
		{TypeHostPort, ModeEgress, []string{"*"}, nil},
		{TypeHostPort, ModeEgress, []string{"example.com:65536"}, nil},
		{TypeHostPort, ModeEgress, []string{"example.com:"}, nil},
		{TypeHostPort, ModeEgress, []string{"example.com:100-99"}, nil},
		{TypeHostPort, ModeEgress, []string{"ex ample.com"}, nil},
		{TypeHostPort, ModeEgress, []string{"-bad.com"}, nil},
		{TypePrivateHostPort, ModeEgress, []string{"myaccount.blob.core.windows.net"}, []string{"myaccount.blob.core.windows.net"}},
		{TypePrivateHostPort, ModeEgress, []string{"*.blob.core.windows.net"}, nil},
		{TypePrivateHostPort, ModeEgress, []string{"a.com", "b.com"}, nil},
		{TypeComputePool, "", []string{"ALL", "my_pool"}, []string{"ALL", "MY_POOL"}},
		{TypeComputePool, "", []string{"1pool"}, nil},
	}
	for _, tc := range tests {
		got, err := ValidateRule(tc.typ, tc.mode, tc.in)
		if tc.want == nil {
			var se *sferr.Error
			if err == nil || !errors.As(err, &se) || se.Code != "001008" || !strings.HasPrefix(se.Message, "SQL compilation error:\n") {
				t.Errorf("ValidateRule(%s, %q) = %q, %v; want a 001008 compilation error", tc.typ, tc.in, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ValidateRule(%s, %q) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
		}
	}
}

func FuzzValidateRule(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::1", "vpce-0123456789abcdef0", "123", "{1:10.0.0.1}", "*.google.com:0", "0.0.0.0:80", "a.b:1-2", "ALL", "pool"} {
		for _, typ := range []string{TypeIPv4, TypeIPv6, TypeAWSVPCEID, TypeAzureLinkID, TypeGCPPSCID, TypeHostPort, TypePrivateHostPort, TypeComputePool} {
			f.Add(typ, s)
		}
	}
	f.Fuzz(func(t *testing.T, typ, v string) {
		mode := legalModes[strings.ToUpper(typ)]
		m := ModeIngress
		if len(mode) > 0 {
			m = mode[0]
		}
		got, err := ValidateRule(typ, m, []string{v})
		if err != nil {
			return
		}
		again, err := ValidateRule(typ, m, got)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("normalised %q of %q re-validates to %q, %v", got, v, again, err)
		}
	})
}
