package exec

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// maxViewRows bounds the history rows one view or table function reads.
const maxViewRows = 10000

// snowflakeDB is the shared database whose ACCOUNT_USAGE schema holds the views.
var snowflakeDB = catalog.Object{Kind: "DATABASE", Name: "SNOWFLAKE"}

// canSeeAccountUsage reports whether the active roles may read SNOWFLAKE.ACCOUNT_USAGE:
// ACCOUNTADMIN, or a role holding IMPORTED PRIVILEGES on database SNOWFLAKE.
func canSeeAccountUsage(r *authz.Active) bool {
	return r.All.Has(catalog.RoleAccountAdmin) || r.Snap.Allowed(r.All, snowflakeDB, "", "IMPORTED PRIVILEGES")
}

// systemView builds the rows of an ACCOUNT_USAGE view or an INFORMATION_SCHEMA
// history table function for session s (see data.Sources).
func (e *Engine) systemView(ctx context.Context, s *session.Session, db, name string) (*result.Set, error) {
	if e.cfg.History != nil {
		if err := e.cfg.History.Flush(ctx); err != nil {
			return nil, err
		}
	}
	var set *result.Set
	err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		if view, ok := strings.CutPrefix(name, "ACCOUNT_USAGE."); ok {
			if !canSeeAccountUsage(r) {
				return sferr.DoesNotExist("Object", "SNOWFLAKE.ACCOUNT_USAGE."+view)
			}
			set, err = accountUsageView(ctx, tx, s, view)
			return err
		}
		fn, _ := strings.CutPrefix(name, "INFORMATION_SCHEMA.")
		if _, err := catalog.GetDatabase(ctx, tx, s.Account, db); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return sferr.DoesNotExist("Database", db)
			}
			return err
		}
		// Without access to ACCOUNT_USAGE a user sees their own statements and logins.
		all := canSeeAccountUsage(r)
		if strings.HasPrefix(fn, "LOGIN_HISTORY") {
			set, err = accountUsageView(ctx, tx, s, "LOGIN_HISTORY")
			if err == nil && !all {
				mine := set.Rows[:0:0]
				for _, row := range set.Rows {
					if row[3] == s.User {
						mine = append(mine, row)
					}
				}
				set.Rows = mine
			}
			return err
		}
		set, err = queryHistoryFunction(ctx, tx, s, fn, all)
		return err
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// Column helpers for the views.
func vText(n string) result.Column {
	return result.Column{Name: n, Type: "text", Length: 16777216, Nullable: true}
}
func vNum(n string) result.Column {
	return result.Column{Name: n, Type: "fixed", Precision: 38, Nullable: true}
}
func vBool(n string) result.Column { return result.Column{Name: n, Type: "boolean", Nullable: true} }
func vTime(n string) result.Column {
	return result.Column{Name: n, Type: "timestamp_ltz", Scale: 3, Nullable: true}
}

// queryHistoryColumns are ACCOUNT_USAGE.QUERY_HISTORY's columns that firn fills, in
// Snowflake's order; the QUERY_HISTORY table functions share them.
var queryHistoryColumns = []result.Column{
	vText("QUERY_ID"), vText("QUERY_TEXT"), vNum("DATABASE_ID"), vText("DATABASE_NAME"),
	vNum("SCHEMA_ID"), vText("SCHEMA_NAME"), vText("QUERY_TYPE"), vNum("SESSION_ID"),
	vText("USER_NAME"), vText("ROLE_NAME"), vNum("WAREHOUSE_ID"), vText("WAREHOUSE_NAME"),
	vText("WAREHOUSE_SIZE"), vText("WAREHOUSE_TYPE"), vNum("CLUSTER_NUMBER"), vText("QUERY_TAG"),
	vText("EXECUTION_STATUS"), vText("ERROR_CODE"), vText("ERROR_MESSAGE"), vTime("START_TIME"),
	vTime("END_TIME"), vNum("TOTAL_ELAPSED_TIME"), vNum("BYTES_SCANNED"), vNum("ROWS_PRODUCED"),
	vNum("COMPILATION_TIME"), vNum("EXECUTION_TIME"), vNum("QUEUED_PROVISIONING_TIME"),
	vNum("QUEUED_REPAIR_TIME"), vNum("QUEUED_OVERLOAD_TIME"), vNum("TRANSACTION_BLOCKED_TIME"),
	vText("RELEASE_VERSION"), vBool("IS_CLIENT_GENERATED_STATEMENT"), vText("USER_TYPE"),
	vText("USER_DATABASE_NAME"), vNum("USER_DATABASE_ID"), vText("USER_SCHEMA_NAME"),
	vNum("USER_SCHEMA_ID"), vText("ROLE_TYPE"),
}

// queryRows renders history rows; view selects ACCOUNT_USAGE's execution_status
// spelling (SUCCESS, FAIL) over the table function's (SUCCESS, FAILED_WITH_ERROR).
func queryRows(qs []*store.QueryRecord, view bool) [][]any {
	rows := make([][]any, 0, len(qs))
	for _, q := range qs {
		status := q.Status
		if view && status != "SUCCESS" && status != "RUNNING" {
			status = "FAIL"
		}
		elapsed := q.EndTime.Sub(q.StartTime).Milliseconds()
		var userDB, userSchema any
		if q.UserType == "SNOWFLAKE_SERVICE" {
			userDB, userSchema = nullIfEmpty(q.DatabaseName), nullIfEmpty(q.SchemaName)
		}
		var errCode, errMsg any
		if q.ErrorCode != "" {
			errCode, errMsg = q.ErrorCode, q.ErrorMessage
		}
		rows = append(rows, []any{
			q.QueryID, q.QueryText, nil, nullIfEmpty(q.DatabaseName),
			nil, nullIfEmpty(q.SchemaName), q.QueryType, q.SessionID,
			q.UserName, nullIfEmpty(q.RoleName), nil, nullIfEmpty(q.WarehouseName),
			nil, nil, nil, "",
			status, errCode, errMsg, q.StartTime,
			q.EndTime, elapsed, int64(0), q.RowsProduced,
			int64(0), elapsed, int64(0),
			int64(0), int64(0), int64(0),
			nil, false, nullIfEmpty(q.UserType),
			userDB, nil, userSchema,
			nil, "ROLE",
		})
	}
	return rows
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func unixOrNil(sec int64) any {
	if sec == 0 {
		return nil
	}
	return time.Unix(sec, 0).UTC()
}

// queryHistoryFunction is INFORMATION_SCHEMA.QUERY_HISTORY*(): the account's recent
// statements (the user's own unless all), newest first; the data engine applies the
// named arguments.
func queryHistoryFunction(ctx context.Context, tx store.Tx, s *session.Session, fn string, all bool) (*result.Set, error) {
	qs, err := tx.Queries(ctx, s.Account, maxViewRows)
	if err != nil {
		return nil, err
	}
	if !all {
		mine := qs[:0:0]
		for _, q := range qs {
			if q.UserName == s.User {
				mine = append(mine, q)
			}
		}
		qs = mine
	}
	return &result.Set{Type: result.Select, Columns: queryHistoryColumns, Rows: queryRows(qs, false)}, nil
}

// accountUsageView builds one ACCOUNT_USAGE view.
func accountUsageView(ctx context.Context, tx store.Tx, s *session.Session, view string) (*result.Set, error) {
	set := &result.Set{Type: result.Select, Rows: [][]any{}}
	switch view {
	case "QUERY_HISTORY":
		qs, err := tx.Queries(ctx, s.Account, maxViewRows)
		if err != nil {
			return nil, err
		}
		set.Columns, set.Rows = queryHistoryColumns, queryRows(qs, true)
	case "LOGIN_HISTORY":
		set.Columns = []result.Column{
			vNum("EVENT_ID"), vTime("EVENT_TIMESTAMP"), vText("EVENT_TYPE"), vText("USER_NAME"),
			vText("CLIENT_IP"), vText("REPORTED_CLIENT_TYPE"), vText("REPORTED_CLIENT_VERSION"),
			vText("FIRST_AUTHENTICATION_FACTOR"), vText("SECOND_AUTHENTICATION_FACTOR"), vText("IS_SUCCESS"),
			vNum("ERROR_CODE"), vText("ERROR_MESSAGE"), vNum("RELATED_EVENT_ID"), vText("CONNECTION"),
			vText("CLIENT_PRIVATE_LINK_ID"),
		}
		ls, err := tx.Logins(ctx, s.Account, maxViewRows)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			ctype, cver, _ := strings.Cut(l.ReportedClient, " ")
			success := "NO"
			if l.IsSuccess {
				success = "YES"
			}
			var code, msg any
			if l.ErrorCode != "" {
				code, msg = l.ErrorCode, l.ErrorMessage
			}
			set.Rows = append(set.Rows, []any{
				l.EventID, l.EventTimestamp, "LOGIN", l.UserName,
				l.ClientIP, nullIfEmpty(ctype), nullIfEmpty(cver),
				nullIfEmpty(l.FirstFactor), nil, success,
				code, msg, int64(0), nil, nil,
			})
		}
	case "USERS":
		set.Columns = []result.Column{
			vNum("USER_ID"), vText("NAME"), vTime("CREATED_ON"), vTime("DELETED_ON"), vText("LOGIN_NAME"),
			vText("DISPLAY_NAME"), vText("FIRST_NAME"), vText("LAST_NAME"), vText("EMAIL"),
			vBool("MUST_CHANGE_PASSWORD"), vBool("HAS_PASSWORD"), vText("COMMENT"), vBool("DISABLED"),
			vBool("SNOWFLAKE_LOCK"), vText("DEFAULT_WAREHOUSE"), vText("DEFAULT_NAMESPACE"),
			vText("DEFAULT_ROLE"), vText("EXT_AUTHN_DUO"), vText("EXT_AUTHN_UID"), vTime("BYPASS_MFA_UNTIL"),
			vTime("LAST_SUCCESS_LOGIN"), vTime("EXPIRES_AT"), vTime("LOCKED_UNTIL_TIME"),
			vBool("HAS_RSA_PUBLIC_KEY"), vTime("PASSWORD_LAST_SET_TIME"), vText("OWNER"),
			vText("DEFAULT_SECONDARY_ROLE"), vText("TYPE"), vText("DATABASE_NAME"), vNum("DATABASE_ID"),
			vText("SCHEMA_NAME"), vNum("SCHEMA_ID"), vBool("HAS_MFA"), vBool("HAS_PAT"),
		}
		us, err := catalog.ListUsers(ctx, tx, s.Account)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			typ := u.Type
			if typ == "" {
				typ = "PERSON"
			}
			pats, _ := catalog.ListPATs(ctx, tx, s.Account, u.Name)
			var secondary any
			if len(u.DefaultSecondaryRoles) > 0 {
				secondary = `["` + strings.Join(u.DefaultSecondaryRoles, `","`) + `"]`
			}
			set.Rows = append(set.Rows, []any{
				u.Meta.ID, u.Name, u.Meta.Created, nil, u.LoginName,
				nullIfEmpty(u.DisplayName), nullIfEmpty(u.FirstName), nullIfEmpty(u.LastName), nullIfEmpty(u.Email),
				u.MustChangePassword, u.PasswordHash != "", nullIfEmpty(u.Comment), u.Disabled,
				u.LockedUntil > 0, nullIfEmpty(u.DefaultWarehouse), nullIfEmpty(u.DefaultNamespace),
				nullIfEmpty(u.DefaultRole), nil, nil, unixOrNil(u.BypassMFAUntil),
				unixOrNil(u.LastSuccess), unixOrNil(u.ExpiresAt), unixOrNil(u.LockedUntil),
				u.RSAPublicKey != "" || u.RSAPublicKey2 != "", unixOrNil(u.PasswordSet), nullIfEmpty(u.Meta.Owner),
				secondary, typ, nil, nil,
				nil, nil, false, len(pats) > 0,
			})
		}
	case "ROLES":
		set.Columns = []result.Column{
			vNum("ROLE_ID"), vTime("CREATED_ON"), vTime("DELETED_ON"), vText("NAME"), vText("COMMENT"),
			vText("OWNER"), vText("ROLE_TYPE"), vText("ROLE_DATABASE_NAME"), vNum("ROLE_INSTANCE_ID"),
			vText("OWNER_ROLE_TYPE"),
		}
		rs, err := catalog.ListRoles(ctx, tx, s.Account)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			var ownerType any
			if r.Meta.Owner != "" {
				ownerType = "ROLE"
			}
			set.Rows = append(set.Rows, []any{
				r.Meta.ID, r.Meta.Created, nil, r.Name, nullIfEmpty(r.Comment),
				nullIfEmpty(r.Meta.Owner), "ROLE", nil, nil, ownerType,
			})
		}
	case "GRANTS_TO_ROLES":
		set.Columns = []result.Column{
			vTime("CREATED_ON"), vTime("MODIFIED_ON"), vText("PRIVILEGE"), vText("GRANTED_ON"), vText("NAME"),
			vText("TABLE_CATALOG"), vText("TABLE_SCHEMA"), vText("GRANTED_TO"), vText("GRANTEE_NAME"),
			vBool("GRANT_OPTION"), vText("GRANTED_BY"), vTime("DELETED_ON"), vText("GRANTED_BY_ROLE_TYPE"),
			vText("OBJECT_INSTANCE"),
		}
		gs, err := catalog.AllPrivilegeGrants(ctx, tx, s.Account)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			name := g.On.Name
			if g.On.Kind == "DATABASE" {
				name = g.On.Database
				if name == "" {
					name = g.On.Name
				}
			}
			if g.On.Kind == "SCHEMA" && name == "" {
				name = g.On.Schema
			}
			if g.On.Kind == "ACCOUNT" {
				name = s.Account
			}
			toKind, grantee := catalog.RoleDisplay(g.Grantee)
			set.Rows = append(set.Rows, []any{
				g.Meta.Created, g.Meta.Modified, g.Privilege, strings.ReplaceAll(g.On.Kind, " ", "_"), name,
				nullIfEmpty(g.On.Database), nullIfEmpty(g.On.Schema), toKind, grantee,
				g.GrantOption, nullIfEmpty(g.GrantedBy), nil, roleTypeOf(g.GrantedBy), nil,
			})
		}
		rgs, err := catalog.AllRoleGrants(ctx, tx, s.Account)
		if err != nil {
			return nil, err
		}
		for _, g := range rgs {
			if g.GranteeKind != "ROLE" {
				continue
			}
			onKind, role := catalog.RoleDisplay(g.Role)
			toKind, grantee := catalog.RoleDisplay(g.Grantee)
			set.Rows = append(set.Rows, []any{
				g.Meta.Created, g.Meta.Modified, "USAGE", onKind, role,
				nil, nil, toKind, grantee,
				false, nullIfEmpty(g.GrantedBy), nil, roleTypeOf(g.GrantedBy), nil,
			})
		}
	case "GRANTS_TO_USERS":
		set.Columns = []result.Column{
			vTime("CREATED_ON"), vTime("DELETED_ON"), vText("ROLE"), vText("GRANTED_TO"),
			vText("GRANTEE_NAME"), vText("GRANTED_BY"),
		}
		rgs, err := catalog.AllRoleGrants(ctx, tx, s.Account)
		if err != nil {
			return nil, err
		}
		for _, g := range rgs {
			if g.GranteeKind != "USER" {
				continue
			}
			set.Rows = append(set.Rows, []any{g.Meta.Created, nil, g.Role, "USER", g.Grantee, nullIfEmpty(g.GrantedBy)})
		}
	case "SERVICES":
		// Empty until services exist.
		set.Columns = []result.Column{
			vNum("SERVICE_ID"), vText("SERVICE_NAME"), vNum("SERVICE_SCHEMA_ID"), vText("SERVICE_SCHEMA"),
			vNum("SERVICE_DATABASE_ID"), vText("SERVICE_DATABASE"), vText("SERVICE_OWNER"),
			vText("SERVICE_OWNER_ROLE_TYPE"), vText("COMPUTE_POOL_NAME"), vNum("COMPUTE_POOL_ID"),
			vText("DNS_NAME"), vNum("CURRENT_INSTANCES"), vNum("TARGET_INSTANCES"), vNum("MIN_READY_INSTANCES"),
			vNum("MIN_INSTANCES"), vNum("MAX_INSTANCES"), vBool("AUTO_RESUME"),
			vText("EXTERNAL_ACCESS_INTEGRATIONS"), vTime("CREATED"), vTime("LAST_ALTERED"),
			vTime("LAST_RESUMED"), vTime("DELETED"), vText("COMMENT"), vBool("IS_JOB"),
		}
	default:
		return nil, sferr.DoesNotExist("Object", "SNOWFLAKE.ACCOUNT_USAGE."+view)
	}
	return set, nil
}

// roleTypeOf is GRANTED_BY_ROLE_TYPE: ROLE for a role name, nil when unknown.
func roleTypeOf(role string) any {
	if role == "" {
		return nil
	}
	return "ROLE"
}
