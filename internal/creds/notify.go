package creds

import "sync"

// live holds the brokers of this process, for NotifyChanged.
var live = struct {
	sync.Mutex
	m map[*Broker]struct{}
}{m: map[*Broker]struct{}{}}

func register(b *Broker) {
	live.Lock()
	live.m[b] = struct{}{}
	live.Unlock()
}

func unregister(b *Broker) {
	live.Lock()
	delete(live.m, b)
	live.Unlock()
}

// NotifyChanged tells every broker of the process that an account's grants, secrets
// or integrations changed, so their cached decisions for it are dropped at once
// rather than after Config.DecisionTTL. Statement handlers that change what a
// decision reads (GRANT/REVOKE, ALTER/DROP SECRET, ALTER/DROP INTEGRATION, DROP
// ROLE/DATABASE/SCHEMA) call it after their transaction commits. account "" means
// every account.
func NotifyChanged(account string) {
	live.Lock()
	bs := make([]*Broker, 0, len(live.m))
	for b := range live.m {
		bs = append(bs, b)
	}
	live.Unlock()
	for _, b := range bs {
		b.Invalidate(account)
	}
}
