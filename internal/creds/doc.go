// Package creds is firn's credential broker: the API through which UDFs and services
// obtain the credentials their secrets stand for.
//
// Broker.Resolve(ctx, principal, EAIs, secret) returns a credential only if
//
//   - one of the workload's external access integrations exists, is ENABLED, is usable
//     by the workload's owner role (USAGE or OWNERSHIP) and allows the secret — by
//     ALLOWED_AUTHENTICATION_SECRETS (a list, or all) or by listing the secret's
//     security integration in ALLOWED_API_AUTHENTICATION_INTEGRATIONS; and
//   - the owner role may read the secret: READ (or OWNERSHIP) on it, and USAGE on its
//     database and schema, as Snowflake requires to reference a secret in a UDF,
//     procedure or service; and
//   - for an OAUTH2 secret, the network rules of that integration allow the host:port
//     of the OAuth token endpoint (firn's default; Snowflake calls the endpoint
//     outside the integration's rules).
//
// What it returns depends on the secret's TYPE: PASSWORD gives a username and
// password, GENERIC_STRING a string, CLOUD_PROVIDER_TOKEN temporary AWS credentials
// from STS AssumeRole (role ARN and external ID from the AWS_IAM security integration,
// through aws-sdk-go-v2's default configuration, so AWS_ENDPOINT_URL_STS, AWS_REGION
// and the usual credential variables apply), OAUTH2 an access token from the
// client-credentials flow or, for authorization-code secrets, the refresh-token flow
// (golang.org/x/oauth2). A refresh token the OAuth server rotates is stored in the
// secret, sealed, with a compare-and-swap on the record the refresh read
// (RefreshTokenSaver), so a restarted broker or another replica uses it and a
// concurrent ALTER or DROP is never overwritten.
//
// Tokens are cached per secret and refreshed at 80% of their lifetime; concurrent
// resolvers of one secret share one upstream call (singleflight). Authorization
// decisions are cached for Config.DecisionTTL, so a cached Resolve touches neither the
// store nor the network. Every Resolve — issued, denied or failed — is audited
// (who, which secret, which workload, outcome, expiry; never a value) in the store's
// creds_audit table, written in batches off the request path.
//
// Credential values are typed Sensitive: they print, log and marshal as "[redacted]"
// and must be revealed explicitly.
package creds
