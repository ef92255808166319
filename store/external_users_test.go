package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

// extItem is a NewItem for the user the app names ext.
func extItem(ext, title string) notify.NewItem {
	return notify.NewItem{ExternalID: ext, NewNotification: notify.NewNotification{Title: title}}
}

// TestInsertBatchExternal: items named by external id create their users
// in the batch's transaction, never touch a self-signup account of the
// same name, and share users with items named by user id; url and data
// come back as given.
func TestInsertBatchExternal(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ctx := context.Background()
	signup := storetest.User(t, st, "dave") // a self-signup account
	known, _, err := st.EnsureExternalUser(ctx, "app:7", nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	link := "/capsules/42"
	withLink := extItem("dave", "linked")
	withLink.URL, withLink.Data = link, json.RawMessage(`{"capsule_id":42}`)
	// "k3" names app:7 by external id with its user id already known, as
	// the service does for ids it has seen: no lookup, same user.
	resolved := extItem("app:7", "k3")
	resolved.UserID = known.ID
	items := []notify.NewItem{
		extItem("auth0|new", "n1"), withLink, extItem("app:7", "k1"),
		item(known.ID, "k2"), extItem("auth0|new", "n2"), item(signup.ID, "s1"), resolved,
	}
	rows, _, err := st.InsertBatch(ctx, items, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(items) {
		t.Fatalf("%d rows for %d items", len(rows), len(items))
	}
	for i, r := range rows {
		if r.ID == 0 || r.UserID == 0 || r.Title != items[i].Title {
			t.Fatalf("row %d = %+v", i, r)
		}
	}
	newUser, err := st.UserByExternalID(ctx, "auth0|new")
	if err != nil {
		t.Fatal(err)
	}
	daveExt, err := st.UserByExternalID(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	wantUser := []int64{newUser.ID, daveExt.ID, known.ID, known.ID, newUser.ID, signup.ID, known.ID}
	wantUnread := []int64{1, 1, 1, 2, 2, 1, 3}
	for i, r := range rows {
		if r.UserID != wantUser[i] || r.Unread != wantUnread[i] {
			t.Errorf("row %d: user %d unread %d, want user %d unread %d", i, r.UserID, r.Unread, wantUser[i], wantUnread[i])
		}
	}
	if daveExt.ID == signup.ID {
		t.Fatal("external id dave resolved to the self-signup account dave")
	}
	got := storedByID(t, st, daveExt.ID)[rows[1].ID]
	if got.URL == nil || *got.URL != link || string(got.Data) != `{"capsule_id":42}` {
		t.Fatalf("stored url %v data %s", got.URL, got.Data)
	}
	if rows[1].URL == nil || *rows[1].URL != link || string(rows[1].Data) != `{"capsule_id":42}` {
		t.Fatalf("returned url %v data %s", rows[1].URL, rows[1].Data)
	}
	if other := storedByID(t, st, signup.ID); len(other) != 1 {
		t.Fatalf("the self-signup account has %d notifications, want its own 1", len(other))
	}
	plain := storedByID(t, st, newUser.ID)[rows[0].ID]
	if plain.URL != nil || plain.Data != nil {
		t.Fatalf("no url/data given, stored %v %s", plain.URL, plain.Data)
	}
}
