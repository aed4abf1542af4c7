// Package ingress enforces network policies and private-endpoint pinning on every
// request that reaches firn: at login and on each later request of a session.
//
// A Guard holds, per account, the compiled network policies that are active (on the
// account, on users and on security integrations) and answers every decision with one
// function, Guard.Check. The login path (package auth), the per-request path (package
// wire), the self-lockout check of ALTER ACCOUNT / ALTER NETWORK POLICY (package exec)
// and `firn explain ingress` all use it, so what is explained is what is enforced.
//
// Compiled state is cached per account and rebuilt when Invalidate is called (after
// every committed change to rules, policies, users or activations in this process) or
// when it is older than the Guard's refresh interval (changes made by another replica).
package ingress
