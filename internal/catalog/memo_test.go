package catalog

import (
	"reflect"
	"testing"

	"github.com/firn/firn/internal/store"
)

// TestMemoClonesEveryReference fails when a memoised type gains a field that its clone
// function would share between callers (a slice, map or pointer it does not copy).
func TestMemoClonesEveryReference(t *testing.T) {
	cloned := map[reflect.Type][]string{
		reflect.TypeFor[User]():    {"DefaultSecondaryRoles", "Params"},
		reflect.TypeFor[Account](): {"Params"},
		reflect.TypeFor[PAT]():     {"Hash"},
	}
	for typ, known := range cloned {
		for i := range typ.NumField() {
			f := typ.Field(i)
			switch f.Type.Kind() {
			case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
				ok := false
				for _, k := range known {
					ok = ok || k == f.Name
				}
				if !ok {
					t.Errorf("%s.%s is a %s the decode memo's clone does not copy", typ.Name(), f.Name, f.Type.Kind())
				}
			}
		}
	}
}

// TestMemoIsolation proves that a caller mutating a memoised value does not change what
// the next reader decodes, and that changed bytes are decoded afresh.
func TestMemoIsolation(t *testing.T) {
	k := UserKey("A", "U")
	r := &store.Record{Key: k, Data: []byte(`{"name":"U","params":{"X":"1"},"default_secondary_roles":["ALL"]}`)}
	u1, err := userMemo.decode(r)
	if err != nil {
		t.Fatal(err)
	}
	u1.Params["X"] = "changed"
	u1.DefaultSecondaryRoles[0] = "NONE"
	u1.Disabled = true
	u2, err := userMemo.decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if u2.Params["X"] != "1" || u2.DefaultSecondaryRoles[0] != "ALL" || u2.Disabled {
		t.Fatalf("memoised value was shared: %+v", u2)
	}
	r2 := &store.Record{Key: k, Data: []byte(`{"name":"U","disabled":true}`)}
	u3, err := userMemo.decode(r2)
	if err != nil {
		t.Fatal(err)
	}
	if !u3.Disabled || u3.Params != nil {
		t.Fatalf("changed record decoded as %+v", u3)
	}
	if _, err := userMemo.decode(&store.Record{Key: k, Data: []byte(`{`)}); err == nil {
		t.Fatal("bad JSON decoded")
	}
}
