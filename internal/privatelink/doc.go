// Package privatelink implements Snowflake-style private connectivity for firn:
//
//   - inbound private-endpoint pinning: SYSTEM$REGISTER_PRIVATELINK_ENDPOINT and
//     friends record which accounts an AWS VPC endpoint or Azure private endpoint is
//     pinned to, after the caller proves control of the endpoint (AWS: federated
//     credentials that can ec2:DescribeVpcEndpoints it, owned by the named AWS
//     account; Azure: an ARM access token that can read the private-endpoint
//     resource). The first registration of an endpoint fixes when pinning is
//     enforced (now + delay, 0–1440 minutes, default 60);
//   - Pins, the in-memory PinChecker the ingress guard consults on every request:
//     a request that arrives through a pinned endpoint is allowed only when the
//     target account pinned it;
//   - the records behind SYSTEM$AUTHORIZE_PRIVATELINK / REVOKE / GET_PRIVATELINK_CONFIG
//     and the outbound (egress) endpoints of SYSTEM$PROVISION_PRIVATELINK_ENDPOINT,
//     which the egress proxy will route PRIVATE_HOST_PORT rules through.
//
// Pins are organisation-wide state: one store record per endpoint, kept under the
// organisation account. Privilege checks (ACCOUNTADMIN) are the caller's (package exec).
package privatelink
