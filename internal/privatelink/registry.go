package privatelink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// Store record kinds.
const (
	// KindEndpoint is an inbound endpoint's pinning state; one record per endpoint
	// ID, kept under the organisation account.
	KindEndpoint = "PRIVATELINK ENDPOINT"
	// KindAuthorization is an AWS account / Azure endpoint authorised for private
	// connectivity to one account (SYSTEM$AUTHORIZE_PRIVATELINK).
	KindAuthorization = "PRIVATELINK AUTHORIZATION"
	// KindEgress is an outbound endpoint provisioned for one account.
	KindEgress = "PRIVATELINK EGRESS ENDPOINT"
)

// Endpoint types (the network-rule TYPE that matches them, as in package edge).
const (
	TypeAWS   = "AWSVPCEID"
	TypeAzure = "AZURELINKID"
)

// Delay bounds for SYSTEM$REGISTER_PRIVATELINK_ENDPOINT, in minutes.
const (
	DefaultDelay = 60
	MaxDelay     = 1440
)

// codeInvalid is the error code for refused PrivateLink function calls (bad
// arguments, failed ownership proof). Snowflake's code for these is not documented.
const codeInvalid = "100357"

func proofError(msg string) error {
	e := sferr.New(codeInvalid, "22023", msg)
	e.Type = "EXECUTION"
	return e
}

func invalid(format string, args ...any) error { return proofError(fmt.Sprintf(format, args...)) }

// errGone marks a failed proof because the cloud does not know the endpoint (it was
// deleted); unregistering accepts it.
var errGone = errors.New("privatelink: endpoint not found in the cloud")

func goneError(msg string) error {
	e := sferr.New(codeInvalid, "22023", msg)
	e.Type, e.Cause = "EXECUTION", errGone
	return e
}

// endpointRecord is the stored pinning state of one inbound endpoint.
type endpointRecord struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// FirstRegistered and EnforceAt are fixed by the endpoint's first registration.
	FirstRegistered time.Time   `json:"first_registered"`
	EnforceAt       time.Time   `json:"enforce_at"`
	Pins            []pinRecord `json:"pins"`
}

// pinRecord pins the endpoint to one account. AccountID is the account record's id,
// so a pin does not survive its account being dropped and re-created.
type pinRecord struct {
	Account    string    `json:"account"`
	AccountID  int64     `json:"account_id"`
	ConsumerID string    `json:"consumer_id"` // AWS account id or Azure private-endpoint resource id
	Registered time.Time `json:"registered"`
}

// Config configures a Registry. Zero values take the documented defaults.
type Config struct {
	Store  store.Store
	Now    func() time.Time
	Logger *slog.Logger
	// AWS proves control of VPC endpoints and AWS accounts.
	AWS *AWSProver
	// Azure proves control of Azure private endpoints.
	Azure *AzureProver
	// Region names the deployment's region in SYSTEM$GET_PRIVATELINK_CONFIG.
	// Default "us-west-2".
	Region string
	// Domain is the DNS suffix of the private-connectivity host names in
	// SYSTEM$GET_PRIVATELINK_CONFIG. Default "privatelink.firn.internal".
	Domain string
}

// Registry records private-connectivity state and keeps Pins current.
type Registry struct {
	cfg       Config
	log       *slog.Logger
	pins      *Pins
	refreshMu sync.Mutex
}

// New returns a Registry. Call Refresh before serving.
func New(cfg Config) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AWS == nil {
		cfg.AWS = &AWSProver{}
	}
	if cfg.Azure == nil {
		cfg.Azure = &AzureProver{}
	}
	if cfg.Region == "" {
		cfg.Region = "us-west-2"
	}
	if cfg.Domain == "" {
		cfg.Domain = "privatelink.firn.internal"
	}
	return &Registry{cfg: cfg, log: cfg.Logger, pins: NewPins(cfg.Now)}
}

// Pins returns the checker the ingress guard consults.
func (r *Registry) Pins() *Pins { return r.pins }

// endpointType classifies an endpoint ID and checks the consumer ID that goes with it.
func endpointType(endpointID, consumer string) (string, error) {
	switch {
	case vpceID.MatchString(endpointID):
		if !awsAccountID.MatchString(consumer) {
			return "", invalid("'%s' is not a 12-digit AWS account ID.", consumer)
		}
		return TypeAWS, nil
	case validLinkID(endpointID):
		if !azurePE.MatchString(consumer) {
			return "", invalid("'%s' is not an Azure private endpoint resource ID.", consumer)
		}
		return TypeAzure, nil
	}
	return "", invalid("'%s' is not an AWS VPC endpoint ID or an Azure private endpoint LinkID.", endpointID)
}

// prove runs the ownership proof for an endpoint.
func (r *Registry) prove(ctx context.Context, typ, endpointID, consumer, token string) error {
	if typ == TypeAWS {
		return r.cfg.AWS.ProveVPCEndpoint(ctx, endpointID, consumer, token)
	}
	return r.cfg.Azure.ProvePrivateEndpoint(ctx, consumer, token)
}

// orgAccount returns the organisation account's name.
func orgAccount(ctx context.Context, tx store.Tx) (string, map[string]int64, error) {
	as, err := catalog.ListAccounts(ctx, tx)
	if err != nil {
		return "", nil, err
	}
	ids := make(map[string]int64, len(as))
	org := ""
	for _, a := range as {
		ids[a.Name] = a.Meta.ID
		if a.Org {
			org = a.Name
		}
	}
	if org == "" {
		return "", nil, errors.New("privatelink: no organisation account")
	}
	return org, ids, nil
}

func loadEndpoint(ctx context.Context, tx store.Tx, org, id string) (*endpointRecord, error) {
	rec, err := tx.Get(ctx, store.Key{Account: org, Kind: KindEndpoint, Name: id})
	if err != nil {
		return nil, err
	}
	var e endpointRecord
	if err := json.Unmarshal(rec.Data, &e); err != nil {
		return nil, fmt.Errorf("privatelink: decode endpoint %s: %w", id, err)
	}
	return &e, nil
}

func saveEndpoint(ctx context.Context, tx store.Tx, org string, e *endpointRecord, insert bool) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("privatelink: encode endpoint: %w", err)
	}
	rec := &store.Record{Key: store.Key{Account: org, Kind: KindEndpoint, Name: e.ID}, Data: b}
	if insert {
		return tx.Insert(ctx, rec)
	}
	return tx.Put(ctx, rec)
}

// livePins drops pins whose account no longer exists (or is a new account of the
// same name).
func livePins(pins []pinRecord, ids map[string]int64) []pinRecord {
	out := pins[:0:0]
	for _, p := range pins {
		if id, ok := ids[p.Account]; ok && id == p.AccountID {
			out = append(out, p)
		}
	}
	return out
}

// enforceTime computes an endpoint's enforcement time for a registration at now with
// delay: the first registration fixes it; later ones inherit it.
func enforceTime(existing *endpointRecord, now time.Time, delay int) (first, enforce time.Time) {
	if existing != nil {
		return existing.FirstRegistered, existing.EnforceAt
	}
	return now, now.Add(time.Duration(delay) * time.Minute)
}

// Register pins endpointID to account after proving control of it with token.
// delay is in minutes (0..1440); a negative delay means the default (60).
func (r *Registry) Register(ctx context.Context, account, endpointID, consumer, token string, delay int) (string, error) {
	if delay < 0 {
		delay = DefaultDelay
	}
	if delay > MaxDelay {
		return "", invalid("Invalid delay time %d: it must be between 0 and %d minutes.", delay, MaxDelay)
	}
	typ, err := endpointType(endpointID, consumer)
	if err != nil {
		return "", err
	}
	if err := r.prove(ctx, typ, endpointID, consumer, token); err != nil {
		return "", err
	}
	now := r.cfg.Now().UTC()
	var e *endpointRecord
	err = r.cfg.Store.Update(ctx, func(tx store.Tx) error {
		org, ids, err := orgAccount(ctx, tx)
		if err != nil {
			return err
		}
		accountID, ok := ids[account]
		if !ok {
			return sferr.DoesNotExist("Account", account)
		}
		old, err := loadEndpoint(ctx, tx, org, endpointID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		first, enforce := enforceTime(old, now, delay)
		e = &endpointRecord{ID: endpointID, Type: typ, FirstRegistered: first, EnforceAt: enforce}
		if old != nil {
			e.Pins = livePins(old.Pins, ids)
		}
		e.Pins = slices.DeleteFunc(e.Pins, func(p pinRecord) bool { return p.Account == account })
		e.Pins = append(e.Pins, pinRecord{Account: account, AccountID: accountID, ConsumerID: consumer, Registered: now})
		return saveEndpoint(ctx, tx, org, e, old == nil)
	})
	if err != nil {
		return "", err
	}
	r.refreshAfterChange(ctx)
	r.log.Info("private endpoint registered", slog.String("account", account), slog.String("endpoint", endpointID),
		slog.Time("enforce_at", e.EnforceAt))
	if !e.EnforceAt.After(now) {
		return fmt.Sprintf("Private endpoint %s registered successfully. Pinning is enforced now.", endpointID), nil
	}
	return fmt.Sprintf("Private endpoint %s registered successfully. Pinning will be enforced from %s UTC, "+
		"as fixed by the endpoint's first registration at %s UTC.", endpointID,
		e.EnforceAt.Format("2006-01-02 15:04:05"), e.FirstRegistered.Format("2006-01-02 15:04:05")), nil
}

// Unregister removes account's pin of endpointID. The consumer ID must be the one
// registered. The token must parse; its cloud proof is attempted, and an endpoint the
// cloud no longer knows is accepted (Snowflake asks customers to unregister endpoints
// they deleted), but any other proof failure refuses.
func (r *Registry) Unregister(ctx context.Context, account, endpointID, consumer, token string) (string, error) {
	typ, err := endpointType(endpointID, consumer)
	if err != nil {
		return "", err
	}
	if err := r.prove(ctx, typ, endpointID, consumer, token); err != nil && !errors.Is(err, errGone) {
		return "", err
	}
	err = r.cfg.Store.Update(ctx, func(tx store.Tx) error {
		org, ids, err := orgAccount(ctx, tx)
		if err != nil {
			return err
		}
		e, err := loadEndpoint(ctx, tx, org, endpointID)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("Private endpoint %s is not registered to this account.", endpointID)
		}
		if err != nil {
			return err
		}
		live := livePins(e.Pins, ids)
		i := slices.IndexFunc(live, func(p pinRecord) bool { return p.Account == account })
		if i < 0 || live[i].ConsumerID != consumer {
			return invalid("Private endpoint %s is not registered to this account.", endpointID)
		}
		e.Pins = slices.Delete(live, i, i+1)
		if len(e.Pins) == 0 {
			return tx.Delete(ctx, store.Key{Account: org, Kind: KindEndpoint, Name: endpointID})
		}
		return saveEndpoint(ctx, tx, org, e, false)
	})
	if err != nil {
		return "", err
	}
	r.refreshAfterChange(ctx)
	r.log.Info("private endpoint unregistered", slog.String("account", account), slog.String("endpoint", endpointID))
	return fmt.Sprintf("Private endpoint %s unregistered successfully.", endpointID), nil
}

// Registration is one row of SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS, with the
// documented keys in the documented order.
type Registration struct {
	ConsumerEndpointID       string `json:"consumerEndpointId"`
	ConsumerEndpointType     string `json:"consumerEndpointType"`
	PinnedConsumerEndpointID string `json:"pinnedConsumerEndpointId"`
	ProviderServiceEndpoint  string `json:"providerServiceEndpoint"`
}

// Registrations returns account's registrations as the JSON text of
// SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS ("[]" when none).
func (r *Registry) Registrations(ctx context.Context, account string) (string, error) {
	out := []Registration{}
	err := r.cfg.Store.View(ctx, func(tx store.Tx) error {
		org, ids, err := orgAccount(ctx, tx)
		if err != nil {
			return err
		}
		recs, err := tx.List(ctx, org, KindEndpoint, "")
		if err != nil {
			return err
		}
		for _, rec := range recs {
			var e endpointRecord
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				return fmt.Errorf("privatelink: decode endpoint %s: %w", rec.Name, err)
			}
			for _, p := range livePins(e.Pins, ids) {
				if p.Account != account {
					continue
				}
				reg := Registration{ConsumerEndpointID: p.ConsumerID, PinnedConsumerEndpointID: e.ID}
				if e.Type == TypeAWS {
					reg.ConsumerEndpointType, reg.ProviderServiceEndpoint = "Aws Id", r.awsService(org)
				} else {
					reg.ConsumerEndpointType, reg.ProviderServiceEndpoint = "Azure Endpoint Connection Id", r.azureService(org)
				}
				out = append(out, reg)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("privatelink: encode registrations: %w", err)
	}
	return string(b), nil
}

// serviceSuffix is a stable identifier of this deployment's (virtual) PrivateLink
// service, derived from the organisation account.
func serviceSuffix(org string, n int) string {
	h := sha256.Sum256([]byte("firn-privatelink/" + org))
	return hex.EncodeToString(h[:])[:n]
}

func (r *Registry) awsService(org string) string { return "vpce-svc-" + serviceSuffix(org, 17) }

func (r *Registry) azureService(org string) string {
	return "sf-pvlinksvc-" + strings.ReplaceAll(r.cfg.Region, "-", "") + "." + serviceSuffix(org, 12)
}

// Refresh rebuilds the Pins snapshot from the store.
func (r *Registry) Refresh(ctx context.Context) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	t := pinTable{}
	now := r.cfg.Now().UnixNano()
	err := r.cfg.Store.View(ctx, func(tx store.Tx) error {
		org, ids, err := orgAccount(ctx, tx)
		if err != nil {
			return err
		}
		recs, err := tx.List(ctx, org, KindEndpoint, "")
		if err != nil {
			return err
		}
		for _, rec := range recs {
			var e endpointRecord
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				return fmt.Errorf("privatelink: decode endpoint %s: %w", rec.Name, err)
			}
			pe := &pinEntry{enforceAt: e.EnforceAt.UnixNano()}
			pe.pending = pe.enforceAt > now
			for _, p := range livePins(e.Pins, ids) {
				pe.accounts = append(pe.accounts, strings.ToUpper(p.Account))
			}
			if len(pe.accounts) > 0 {
				t[e.ID] = pe
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("privatelink: refresh pins: %w", err)
	}
	r.pins.set(t)
	return nil
}

// refreshAfterChange refreshes after a committed change. A failure keeps the old
// snapshot (logged); Run retries every minute.
func (r *Registry) refreshAfterChange(ctx context.Context) {
	if err := r.Refresh(context.WithoutCancel(ctx)); err != nil {
		r.log.Error("private endpoint pins not refreshed", slog.Any("err", err))
	}
}

// Run refreshes the snapshot every interval (default one minute) until ctx ends,
// so that pins of dropped accounts, and changes made by other replicas sharing the
// store, take effect.
func (r *Registry) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("private endpoint pins refresh failed", slog.Any("err", err))
			}
		}
	}
}
