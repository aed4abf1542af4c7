package privatelink

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseFederationToken(t *testing.T) {
	doc := `{
    "Credentials": {
      "AccessKeyId": "ASIAEXAMPLE",
      "SecretAccessKey": "alDsecret",
      "SessionToken": "IQotoken",
      "Expiration": "2024-12-10T08:20:20+00:00"
    },
    "FederatedUser": {
      "FederatedUserId": "0123:snowflake",
      "Arn": "arn:aws:sts::174000000000:federated-user/snowflake"
    },
    "PackedPolicySize": 9,
    }`
	tests := []struct {
		name, token string
		ok          bool
	}{
		{"documented example with trailing comma", doc, true},
		{"compact", `{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T"}}`, true},
		{"comma inside a string is kept", `{"Credentials":{"AccessKeyId":"A,}","SecretAccessKey":"S","SessionToken":"T"}}`, true},
		{"no session token (long-term keys)", `{"Credentials":{"AccessKeyId":"A","SecretAccessKey":"S"}}`, false},
		{"not JSON", "eyJhbGciOi", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		ft, err := parseFederationToken(tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok %v", tt.name, err, tt.ok)
		}
		if tt.name == "comma inside a string is kept" && err == nil && ft.Credentials.AccessKeyID != "A,}" {
			t.Errorf("string altered: %q", ft.Credentials.AccessKeyID)
		}
	}
}

func TestEndpointType(t *testing.T) {
	pe := "/subscriptions/0cc51670-1111/resourceGroups/rg_1/providers/Microsoft.Network/privateEndpoints/pe-1"
	tests := []struct {
		endpoint, consumer, want string
	}{
		{"vpce-0c1a2b3c4d5e6f789", "123456789012", TypeAWS},
		{"vpce-0c1a2b3c4d5e6f789", "12345678901", ""},
		{"vpce-0C1A", "123456789012", ""},
		{"vpc-0c1a", "123456789012", ""},
		{"587202689", pe, TypeAzure},
		{"4294967295", pe, TypeAzure},
		{"4294967296", pe, ""},
		{"0587", pe, ""},
		{"587202689", "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/servers/s", ""},
		{"587202689", "123456789012", ""},
	}
	for _, tt := range tests {
		got, err := endpointType(tt.endpoint, tt.consumer)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("endpointType(%q, %q) = %q, %v; want %q", tt.endpoint, tt.consumer, got, err, tt.want)
		}
	}
}

// TestAzureProver runs the proof against a local ARM stand-in.
func TestAzureProver(t *testing.T) {
	pe := "/subscriptions/0cc51670-1111/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe-1"
	arm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer good":
			w.WriteHeader(http.StatusForbidden)
		case r.URL.Query().Get("api-version") != azureAPIVersion:
			w.WriteHeader(http.StatusBadRequest)
		case r.URL.Path == pe:
			w.Write([]byte(`{"id":"` + strings.ToLower(pe) + `","type":"Microsoft.Network/privateEndpoints"}`))
		case strings.HasSuffix(r.URL.Path, "/wrongtype"):
			w.Write([]byte(`{"id":"` + r.URL.Path + `","type":"Microsoft.Network/networkInterfaces"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer arm.Close()
	p := &AzureProver{BaseURL: arm.URL}
	tests := []struct {
		name, resource, token, wantErr string
	}{
		{"bare token", pe, "good", ""},
		{"az cli output", pe, `{"accessToken": "good", "tokenType": "Bearer"}`, ""},
		{"wrong token", pe, "bad", "cannot read"},
		{"json without token", pe, `{"tokenType": "Bearer"}`, "neither"},
		{"missing endpoint", strings.Replace(pe, "pe-1", "pe-2", 1), "good", "not found"},
		{"not an endpoint", strings.Replace(pe, "pe-1", "wrongtype", 1), "good", "is not an Azure private endpoint"},
		{"bad resource id", "/subscriptions/x/rg", "good", "is not an Azure private endpoint resource ID"},
	}
	for _, tt := range tests {
		err := p.ProvePrivateEndpoint(context.Background(), tt.resource, tt.token)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
