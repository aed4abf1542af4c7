package exec

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// showLimit is Snowflake's cap on SHOW output.
const showLimit = 10000

// filter applies LIKE, STARTS WITH and LIMIT to a name.
type filter struct {
	st    *sql.Show
	count int
}

func (f *filter) keep(name string) bool {
	if f.st.Like != nil && !likeMatch(*f.st.Like, name) {
		return false
	}
	if f.st.StartsWith != nil && !strings.HasPrefix(name, *f.st.StartsWith) {
		return false
	}
	limit := f.st.Limit
	if limit <= 0 || limit > showLimit {
		limit = showLimit
	}
	if f.count >= limit {
		return false
	}
	f.count++
	return true
}

// visible reports whether the active roles may see an object owned by owner.
func visible(r *authz.Active, owner string) bool {
	return authz.Owns(r.All, owner) || authz.HasAccountPrivilege(r.All, "MANAGE GRANTS")
}

// visibleObject reports whether the active roles may see an object: they own it, hold
// a privilege on it, or hold MANAGE GRANTS.
func visibleObject(r *authz.Active, o catalog.Object, owner string) bool {
	return r.Sees(o, owner)
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func ownerRoleType(owner string) any {
	if owner == "" {
		return ""
	}
	return "ROLE"
}

func (e *Engine) showDatabases(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	dbs, err := catalog.ListDatabases(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("is_default"), result.Text("is_current"),
		result.Text("origin"), result.Text("owner"), result.Text("comment"), result.Text("options"),
		result.Text("retention_time"), result.Text("kind"), result.Text("budget"), result.Text("owner_role_type"),
	}}
	f := &filter{st: st}
	for _, d := range dbs {
		if !visibleObject(r, catalog.Object{Kind: "DATABASE", Name: d.Name}, d.Meta.Owner) || !f.keep(d.Name) {
			continue
		}
		opts := ""
		if d.Transient {
			opts = "TRANSIENT"
		}
		set.Rows = append(set.Rows, []any{d.Meta.Created, d.Name, "N", yn(s.Database == d.Name), "", d.Meta.Owner,
			d.Comment, opts, fmt.Sprint(d.RetentionTime), "STANDARD", nil, ownerRoleType(d.Meta.Owner)})
	}
	return set, nil
}

func (e *Engine) showSchemas(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	db := s.Database
	switch st.InKind {
	case "ACCOUNT":
		db = "*"
	case "DATABASE":
		if st.InName != nil {
			db = st.InName.Last().Name
		}
	case "":
	default:
		return nil, sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'SHOW SCHEMAS IN %s'.", st.InKind))
	}
	if db == "" {
		return nil, noCurrentDatabase("SHOW SCHEMAS")
	}
	if db != "*" {
		if _, err := catalog.GetDatabase(ctx, tx, s.Account, db); err != nil {
			if catalog.IsNotFound(err) {
				return nil, sferr.DoesNotExist("Database", db)
			}
			return nil, err
		}
	}
	schemas, err := catalog.ListSchemas(ctx, tx, s.Account, db)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(schemas, func(i, j int) bool {
		if schemas[i].Database != schemas[j].Database {
			return schemas[i].Database < schemas[j].Database
		}
		return schemas[i].Name < schemas[j].Name
	})
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("is_default"), result.Text("is_current"),
		result.Text("database_name"), result.Text("owner"), result.Text("comment"), result.Text("options"),
		result.Text("retention_time"), result.Text("owner_role_type"), result.Text("budget"),
	}}
	f := &filter{st: st}
	for _, sc := range schemas {
		if !visibleObject(r, catalog.Object{Kind: "SCHEMA", Database: sc.Database, Name: sc.Name}, sc.Meta.Owner) || !f.keep(sc.Name) {
			continue
		}
		var opts []string
		if sc.Transient {
			opts = append(opts, "TRANSIENT")
		}
		if sc.ManagedAccess {
			opts = append(opts, "MANAGED ACCESS")
		}
		cur := s.Database == sc.Database && s.Schema == sc.Name
		set.Rows = append(set.Rows, []any{sc.Meta.Created, sc.Name, "N", yn(cur), sc.Database, sc.Meta.Owner,
			sc.Comment, strings.Join(opts, ", "), fmt.Sprint(sc.RetentionTime), ownerRoleType(sc.Meta.Owner), nil})
	}
	return set, nil
}

func (e *Engine) showWarehouses(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	whs, err := catalog.ListWarehouses(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	cols := []result.Column{result.Text("name"), result.Text("state"), result.Text("type"), result.Text("size"),
		result.Fixed("min_cluster_count"), result.Fixed("max_cluster_count"), result.Fixed("started_clusters"),
		result.Fixed("running"), result.Fixed("queued"), result.Text("is_default"), result.Text("is_current"),
		result.Fixed("auto_suspend"), result.Text("auto_resume"), result.Text("available"), result.Text("provisioning"),
		result.Text("quiescing"), result.Text("other"), result.TimestampLTZ("created_on"), result.TimestampLTZ("resumed_on"),
		result.TimestampLTZ("updated_on"), result.Text("owner"), result.Text("comment"), result.Text("enable_query_acceleration"),
		result.Fixed("query_acceleration_max_scale_factor"), result.Text("resource_monitor"), result.Fixed("actives"),
		result.Fixed("pendings"), result.Fixed("failed"), result.Fixed("suspended"), result.Text("uuid"),
		result.Text("scaling_policy"), result.Text("budget"), result.Text("owner_role_type"), result.Text("resource_constraint")}
	set := &result.Set{Columns: cols}
	f := &filter{st: st}
	for _, w := range whs {
		if !visibleObject(r, catalog.Object{Kind: "WAREHOUSE", Name: w.Name}, w.Meta.Owner) || !f.keep(w.Name) {
			continue
		}
		started := int64(0)
		if w.State == "STARTED" {
			started = w.MinClusterCount
		}
		var autoSuspend any = w.AutoSuspend
		if w.AutoSuspend == 0 {
			autoSuspend = nil
		}
		set.Rows = append(set.Rows, []any{w.Name, w.State, w.Type, w.Size, w.MinClusterCount, w.MaxClusterCount, started,
			int64(0), int64(0), "N", yn(s.Warehouse == w.Name), autoSuspend, fmt.Sprint(w.AutoResume), "", "", "", "",
			w.Meta.Created, w.Meta.Modified, w.Meta.Modified, w.Meta.Owner, w.Comment, "false", int64(8), "null",
			started, int64(0), int64(0), w.MaxClusterCount - started, fmt.Sprint(w.Meta.ID), w.ScalingPolicy, nil,
			ownerRoleType(w.Meta.Owner), nil})
	}
	return set, nil
}

// showParameters implements SHOW PARAMETERS [LIKE] [IN SESSION | ACCOUNT | USER [u]].
func (e *Engine) showParameters(ctx context.Context, tx store.Tx, s *session.Session, _ *authz.Active, st *sql.Show) (*result.Set, error) {
	var sessionVals, userVals, acctVals map[string]string
	level := params.Session
	a, err := catalog.GetAccount(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	acctVals = a.Params
	userName := s.User
	switch st.InKind {
	case "", "SESSION":
		sessionVals = s.Params
	case "ACCOUNT":
		level = params.Account
	case "USER":
		level = params.User
		if st.InName != nil {
			userName = st.InName.Last().Name
		}
	default:
		return nil, sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'SHOW PARAMETERS IN %s'.", st.InKind))
	}
	if level != params.Account {
		u, err := catalog.GetUser(ctx, tx, s.Account, userName)
		if err != nil {
			if catalog.IsNotFound(err) {
				return nil, sferr.DoesNotExist("User", userName)
			}
			return nil, err
		}
		userVals = u.Params
	}
	if level == params.User {
		acctVals = a.Params
	}
	set := &result.Set{Columns: []result.Column{result.Text("key"), result.Text("value"), result.Text("default"),
		result.Text("level"), result.Text("description"), result.Text("type")}}
	f := &filter{st: st}
	for _, d := range params.All() {
		if d.Levels&level == 0 || !f.keep(d.Name) {
			continue
		}
		var rv params.Resolved
		switch level {
		case params.Account:
			rv = params.Resolve(d, nil, nil, acctVals)
		case params.User:
			rv = params.Resolve(d, nil, userVals, acctVals)
		default:
			rv = params.Resolve(d, sessionVals, userVals, acctVals)
		}
		set.Rows = append(set.Rows, []any{d.Name, rv.Value, d.Default, rv.Level, d.Description, string(d.Type)})
	}
	return set, nil
}

func (e *Engine) showAccounts(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	cur, err := catalog.GetAccount(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	if !cur.Org || !r.All.Has(catalog.RoleOrgAdmin) {
		return nil, sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
	}
	accts, err := catalog.ListAccounts(ctx, tx)
	if err != nil {
		return nil, err
	}
	org := cur.Name
	set := &result.Set{Columns: []result.Column{
		result.Text("organization_name"), result.Text("account_name"), result.Text("region_group"),
		result.Text("snowflake_region"), result.Text("edition"), result.Text("account_url"), result.TimestampLTZ("created_on"),
		result.Text("comment"), result.Text("account_locator"), result.Text("account_locator_url"),
		result.Fixed("managed_accounts"), result.Text("consumption_billing_entity_name"),
		result.Text("marketplace_consumer_billing_entity_name"), result.Text("marketplace_provider_billing_entity_name"),
		result.Text("old_account_url"), result.Bool("is_org_admin"), result.Bool("is_organization_account"),
	}}
	f := &filter{st: st}
	for _, a := range accts {
		if !f.keep(a.Name) {
			continue
		}
		url := strings.ToLower(org + "-" + a.Name + ".firn.local")
		set.Rows = append(set.Rows, []any{org, a.Name, "PUBLIC", "FIRN_LOCAL", a.Edition, url, a.Meta.Created, a.Comment,
			a.Name, url, int64(0), nil, nil, nil, nil, a.Org, a.Org})
	}
	return set, nil
}
