package exec

import (
	"context"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// importedPrivileges handles GRANT / REVOKE IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE
// TO ROLE r, which opens SNOWFLAKE.ACCOUNT_USAGE to r. The SNOWFLAKE database is not a
// catalog object, so the ordinary grant path (which needs the object) cannot take it.
// ok is false for any other statement. Only ACCOUNTADMIN (or MANAGE GRANTS) may run it.
func (e *Engine) importedPrivileges(ctx context.Context, s *session.Session, g *sql.GrantSpec, revoke bool) (*result.Set, bool, error) {
	if g.Caller || g.Role != nil || g.Scope != "" || g.OnKind != "DATABASE" || g.OnName == nil ||
		len(g.OnName.Parts) != 1 || g.OnName.Parts[0].Name != "SNOWFLAKE" ||
		len(g.Privileges) != 1 || g.Privileges[0] != "IMPORTED PRIVILEGES" {
		return nil, false, nil
	}
	if g.GranteeKind != "ROLE" {
		return nil, true, unsupported("GRANT TO " + g.GranteeKind)
	}
	grantee, err := accountObjectName(g.Grantee)
	if err != nil {
		return nil, true, err
	}
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !r.All.Has(catalog.RoleAccountAdmin) && !r.ManageGrants() {
			return sferr.InsufficientPrivileges("database 'SNOWFLAKE'")
		}
		if !r.Snap.RoleExists(grantee) {
			return sferr.DoesNotExist("Role", grantee)
		}
		pg := &catalog.PrivilegeGrant{Privilege: "IMPORTED PRIVILEGES", On: snowflakeDB, Grantee: grantee, GrantedBy: s.Role}
		if revoke {
			_, err := catalog.DeletePrivilegeGrant(ctx, tx, s.Account, pg)
			return err
		}
		return catalog.PutPrivilegeGrant(ctx, tx, s.Account, pg)
	})
	if err != nil {
		return nil, true, err
	}
	return result.Status(result.DDL, executed), true, nil
}
