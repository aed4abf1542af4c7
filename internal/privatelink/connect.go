package privatelink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/firn/firn/internal/store"
)

// authorization is a stored SYSTEM$AUTHORIZE_PRIVATELINK grant.
type authorization struct {
	ID         string    `json:"id"` // AWS account id or Azure private-endpoint resource id
	Cloud      string    `json:"cloud"`
	Authorized time.Time `json:"authorized"`
}

// Authorize records that AWS account or Azure private endpoint id may connect to
// account over private connectivity, after proving control of it with token.
func (r *Registry) Authorize(ctx context.Context, account, id, token string) (string, error) {
	var cloud string
	switch {
	case awsAccountID.MatchString(id):
		cloud = "AWS"
		if err := r.cfg.AWS.ProveAccount(ctx, id, token); err != nil {
			return "", err
		}
	case azurePE.MatchString(id):
		cloud = "AZURE"
		if err := r.cfg.Azure.ProvePrivateEndpoint(ctx, id, token); err != nil {
			return "", err
		}
	default:
		return "", invalid("'%s' is not a 12-digit AWS account ID or an Azure private endpoint resource ID.", id)
	}
	a := authorization{ID: id, Cloud: cloud, Authorized: r.cfg.Now().UTC()}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("privatelink: encode authorization: %w", err)
	}
	err = r.cfg.Store.Update(ctx, func(tx store.Tx) error {
		rec := &store.Record{Key: store.Key{Account: account, Kind: KindAuthorization, Name: id}, Data: b}
		if err := tx.Insert(ctx, rec); errors.Is(err, store.ErrExists) {
			return tx.Put(ctx, rec)
		} else {
			return err
		}
	})
	if err != nil {
		return "", err
	}
	return "Private link access authorized.", nil
}

// Revoke removes an authorization made with Authorize. The token is checked as for
// Authorize.
func (r *Registry) Revoke(ctx context.Context, account, id, token string) (string, error) {
	switch {
	case awsAccountID.MatchString(id):
		if err := r.cfg.AWS.ProveAccount(ctx, id, token); err != nil {
			return "", err
		}
	case azurePE.MatchString(id):
		if err := r.cfg.Azure.ProvePrivateEndpoint(ctx, id, token); err != nil && !errors.Is(err, errGone) {
			return "", err
		}
	default:
		return "", invalid("'%s' is not a 12-digit AWS account ID or an Azure private endpoint resource ID.", id)
	}
	err := r.cfg.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, store.Key{Account: account, Kind: KindAuthorization, Name: id})
		if errors.Is(err, store.ErrNotFound) {
			return invalid("'%s' is not authorized for private connectivity to this account.", id)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return "Private link access revoked.", nil
}

// privatelinkConfig is SYSTEM$GET_PRIVATELINK_CONFIG's object, keys in Snowflake's order.
type privatelinkConfig struct {
	AccountName          string `json:"privatelink-account-name"`
	AccountURL           string `json:"privatelink-account-url"`
	RegionlessAccountURL string `json:"regionless-privatelink-account-url"`
	OCSPURL              string `json:"privatelink-ocsp-url"`
	ConnectionURLs       string `json:"privatelink-connection-urls"`
	ConnectionOCSPURLs   string `json:"privatelink-connection-ocsp-urls"`
	SnowsightURL         string `json:"snowsight-privatelink-url"`
	RegionlessSnowsight  string `json:"regionless-snowsight-privatelink-url"`
	VPCEID               string `json:"privatelink-vpce-id"`
	AccountPrincipal     string `json:"privatelink-account-principal"`
	PLSID                string `json:"privatelink-pls-id"`
}

// Config returns SYSTEM$GET_PRIVATELINK_CONFIG's JSON for account (org is the
// organisation account's name, which regionless names carry).
func (r *Registry) Config(ctx context.Context, account string) (string, error) {
	var org string
	if err := r.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		org, _, err = orgAccount(ctx, tx)
		return err
	}); err != nil {
		return "", err
	}
	acct := strings.ToLower(account)
	region := strings.ToLower(r.cfg.Region)
	regional := acct + "." + region + "." + r.cfg.Domain
	regionless := strings.ToLower(org) + "-" + acct + "." + r.cfg.Domain
	urls, _ := json.Marshal([]string{regional, regionless})
	ocsp, _ := json.Marshal([]string{"ocsp." + regional, "ocsp." + regionless})
	c := privatelinkConfig{
		AccountName:          acct + "." + region + ".privatelink",
		AccountURL:           regional,
		RegionlessAccountURL: regionless,
		OCSPURL:              "ocsp." + regional,
		ConnectionURLs:       string(urls),
		ConnectionOCSPURLs:   string(ocsp),
		SnowsightURL:         "app." + region + "." + r.cfg.Domain,
		RegionlessSnowsight:  "app-" + strings.ToLower(org) + "-" + acct + "." + r.cfg.Domain,
		VPCEID:               "com.amazonaws.vpce." + region + "." + r.awsService(org),
		AccountPrincipal:     "arn:aws:iam::" + accountNumber(org) + ":root",
		PLSID:                r.azureService(org),
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("privatelink: encode config: %w", err)
	}
	return string(b), nil
}

// accountNumber derives a stable 12-digit principal account number for org.
func accountNumber(org string) string {
	h := serviceSuffix(org, 12)
	var b strings.Builder
	for _, c := range h {
		b.WriteByte('0' + byte(c)%10)
	}
	return b.String()
}

// EgressEndpoint is an outbound private endpoint provisioned for an account; the
// egress proxy routes PRIVATE_HOST_PORT rules whose host matches Host through it.
type EgressEndpoint struct {
	Cloud       string    `json:"cloud"` // AWS, AZURE, GCP
	Provider    string    `json:"provider"`
	Subresource string    `json:"subresource,omitempty"`
	Host        string    `json:"host"`
	Name        string    `json:"snowflake_name"` // vpce-… or a private-endpoint resource id
	State       string    `json:"endpoint_state"` // CREATED, PENDING_DELETION
	Created     time.Time `json:"created"`
	DeletedAt   time.Time `json:"deleted_at,omitzero"`
}

// restoreWindow is how long a deprovisioned endpoint can be restored.
const restoreWindow = 7 * 24 * time.Hour

var (
	egressHost  = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	awsService  = regexp.MustCompile(`^com\.amazonaws\.[a-z0-9.-]+$`)
	azureRes    = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/.+$`)
	gcpTarget   = regexp.MustCompile(`^(projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/regions/[a-z0-9-]+/serviceAttachments/[a-z0-9-]+|[a-z0-9-]+\.p\.googleapis\.com|all-apis|vpc-sc)$`)
	azureSubres = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
)

func egressCloud(provider string) (string, error) {
	switch {
	case awsService.MatchString(provider):
		return "AWS", nil
	case azureRes.MatchString(provider):
		return "AZURE", nil
	case gcpTarget.MatchString(provider):
		return "GCP", nil
	}
	return "", invalid("'%s' is not an AWS service name, an Azure resource ID or a Google Cloud service attachment.", provider)
}

func egressKey(account, provider, subresource string) store.Key {
	return store.Key{Account: account, Kind: KindEgress, Name: provider + "#" + subresource}
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// Provision records an outbound private endpoint for account to provider, reached
// under host (no port; one leading wildcard label allowed).
func (r *Registry) Provision(ctx context.Context, account, provider, host, subresource string) (string, error) {
	cloud, err := egressCloud(provider)
	if err != nil {
		return "", err
	}
	host = strings.ToLower(strings.TrimSpace(host))
	if !egressHost.MatchString(host) || len(host) > 253 {
		return "", invalid("'%s' is not a valid host name (no port; a wildcard is allowed only as the leftmost label).", host)
	}
	if subresource != "" && (cloud != "AZURE" || !azureSubres.MatchString(subresource)) {
		return "", invalid("A subresource ('%s') is only valid for Azure resources.", subresource)
	}
	now := r.cfg.Now().UTC()
	ep := EgressEndpoint{Cloud: cloud, Provider: provider, Subresource: subresource, Host: host, State: "CREATED", Created: now}
	switch cloud {
	case "AWS":
		ep.Name = "vpce-" + randomHex(17)
	case "AZURE":
		ep.Name = "/subscriptions/firn/resourceGroups/firn-egress/providers/Microsoft.Network/privateEndpoints/pe-" + randomHex(12)
	default:
		ep.Name = "projects/firn/regions/" + r.cfg.Region + "/forwardingRules/psc-" + randomHex(12)
	}
	b, err := json.Marshal(ep)
	if err != nil {
		return "", fmt.Errorf("privatelink: encode endpoint: %w", err)
	}
	err = r.cfg.Store.Update(ctx, func(tx store.Tx) error {
		k := egressKey(account, provider, subresource)
		if old, err := tx.Get(ctx, k); err == nil {
			var o EgressEndpoint
			if json.Unmarshal(old.Data, &o) == nil && !r.gone(o, now) {
				return invalid("A private endpoint for '%s' already exists.", provider)
			}
			return tx.Put(ctx, &store.Record{Key: k, Data: b})
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.Insert(ctx, &store.Record{Key: k, Data: b})
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Private endpoint with id '%s' provisioned successfully.", ep.Name), nil
}

// gone reports whether a deprovisioned endpoint is past its restore window.
func (r *Registry) gone(e EgressEndpoint, now time.Time) bool {
	return e.State == "PENDING_DELETION" && now.Sub(e.DeletedAt) >= restoreWindow
}

// setEgressState moves an endpoint between CREATED and PENDING_DELETION.
func (r *Registry) setEgressState(ctx context.Context, account, provider, subresource, from, to string) (*EgressEndpoint, error) {
	now := r.cfg.Now().UTC()
	var out EgressEndpoint
	err := r.cfg.Store.Update(ctx, func(tx store.Tx) error {
		k := egressKey(account, provider, subresource)
		rec, err := tx.Get(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("No private endpoint matches '%s'.", provider)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(rec.Data, &out); err != nil {
			return fmt.Errorf("privatelink: decode endpoint: %w", err)
		}
		if out.State != from || r.gone(out, now) {
			return invalid("No private endpoint matches '%s'.", provider)
		}
		out.State = to
		out.DeletedAt = time.Time{}
		if to == "PENDING_DELETION" {
			out.DeletedAt = now
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return tx.Put(ctx, &store.Record{Key: k, Data: b})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Deprovision marks an outbound endpoint for deletion; it can be restored for 7 days.
func (r *Registry) Deprovision(ctx context.Context, account, provider, subresource string) (string, error) {
	ep, err := r.setEgressState(ctx, account, provider, subresource, "CREATED", "PENDING_DELETION")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Private endpoint with id '%s' marked for deletion. It can be restored within 7 days using SYSTEM$RESTORE_PRIVATELINK_ENDPOINT.", ep.Name), nil
}

// Restore undoes Deprovision within the restore window.
func (r *Registry) Restore(ctx context.Context, account, provider, subresource string) (string, error) {
	ep, err := r.setEgressState(ctx, account, provider, subresource, "PENDING_DELETION", "CREATED")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Private endpoint with id '%s' restored successfully.", ep.Name), nil
}

// EgressEndpoints returns account's outbound endpoints that are not past their
// restore window, ordered by provider. Only CREATED ones carry traffic.
func (r *Registry) EgressEndpoints(ctx context.Context, account string) ([]EgressEndpoint, error) {
	now := r.cfg.Now().UTC()
	var out []EgressEndpoint
	err := r.cfg.Store.View(ctx, func(tx store.Tx) error {
		recs, err := tx.List(ctx, account, KindEgress, "")
		if err != nil {
			return err
		}
		for _, rec := range recs {
			var e EgressEndpoint
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				return fmt.Errorf("privatelink: decode endpoint %s: %w", rec.Name, err)
			}
			if !r.gone(e, now) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// EndpointsInfo returns SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO's JSON array for account,
// with each cloud's documented fields.
func (r *Registry) EndpointsInfo(ctx context.Context, account string) (string, error) {
	eps, err := r.EgressEndpoints(ctx, account)
	if err != nil {
		return "", err
	}
	items := make([]any, 0, len(eps))
	for _, e := range eps {
		switch e.Cloud {
		case "AWS":
			status := "Available"
			items = append(items, struct {
				ProviderServiceName   string `json:"provider_service_name"`
				SnowflakeEndpointName string `json:"snowflake_endpoint_name"`
				EndpointState         string `json:"endpoint_state"`
				Host                  string `json:"host"`
				Status                string `json:"status"`
			}{e.Provider, e.Name, e.State, e.Host, status})
		case "AZURE":
			items = append(items, struct {
				ProviderResourceID  string   `json:"provider_resource_id"`
				Subresource         string   `json:"subresource"`
				SnowflakeResourceID string   `json:"snowflake_resource_id"`
				Host                string   `json:"host"`
				EndpointState       string   `json:"endpoint_state"`
				Status              string   `json:"status"`
				AdditionalHostnames []string `json:"additional_hostnames"`
			}{e.Provider, e.Subresource, e.Name, e.Host, e.State, "APPROVED", []string{}})
		default:
			items = append(items, struct {
				ProviderResourceID  string `json:"provider_resource_id"`
				SnowflakeResourceID string `json:"snowflake_resource_id"`
				Host                string `json:"host"`
				EndpointState       string `json:"endpoint_state"`
				Status              string `json:"status"`
			}{e.Provider, e.Name, e.Host, e.State, "ACCEPTED"})
		}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return "", fmt.Errorf("privatelink: encode endpoints: %w", err)
	}
	return string(b), nil
}
