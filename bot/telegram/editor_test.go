package telegram

import (
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// TestEditorEditsSentMessages: after a post's English changes, each message
// already sent for it is edited once in its own form (text or caption), no
// new message is sent, and an identical retranslation costs nothing.
func TestEditorEditsSentMessages(t *testing.T) {
	tests := []struct {
		name       string
		photo      bool
		image      string
		failPhotos bool
		wantMethod string
	}{
		{"text message", false, "", false, "editmessagetext"},
		{"photo caption", true, "https://img.example.org/a.jpg", false, "editmessagecaption"},
		{"sent as text after a photo fallback", true, "https://img.example.org/a.jpg", true, "editmessagetext"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := openStore(t)
			srv := telegramtest.New(t, telegramtest.Options{MinInterval: 10 * time.Millisecond})
			c := newTestClient(t, srv)
			ch := bot.Channel{Key: "@zhaoqing_en", Address: "@zhaoqing_en", SummaryChars: 300, Photo: tc.photo}
			src := Source{ID: "zhaoqing-news", Name: "Zhaoqing Government — News"}
			now := time.Now().UTC()
			it := model.Item{SourceID: src.ID, Key: "k1", Title: "大湾区会议", ContentHTML: "<p>大湾区会议召开。</p>",
				Link: "http://www.zhaoqing.gov.cn/a.html", Language: "zh", Published: now, ContentHash: "h1", ImageURL: tc.image}
			res, err := st.UpsertItems(ctx, src.ID, []model.Item{it}, now)
			if err != nil {
				t.Fatal(err)
			}
			id := res.New[0]
			tr := model.Translation{TitleEN: "Dawan District meeting", ContentHTMLEN: "<p>The Dawan District meeting opened.</p>", TranslatedBy: "deepl"}
			if err := st.MarkReady(ctx, id, tr, []string{ch.Key}, now); err != nil {
				t.Fatal(err)
			}
			// Send it as the outbox does (a photo, or text after a refused photo).
			ds, err := st.ClaimDeliveries(ctx, "s", now, 10, time.Minute)
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim: %v %v", ds, err)
			}
			stored, _ := st.GetItem(ctx, id)
			msg := Format(stored, src, ch, "https://example.org", tc.photo && !tc.failPhotos)
			if ok, _, err := st.ReserveSend(ctx, pacingKey(ch.Address), time.Now(), 20*time.Millisecond); err != nil || !ok {
				t.Fatalf("reserve the send slot: %t %v", ok, err)
			}
			mid, err := c.Send(ctx, ch.Address, 0, msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.MarkDelivered(ctx, ds[0].ID, mid, now); err != nil {
				t.Fatal(err)
			}
			sends := srv.Requests("sendmessage") + srv.Requests("sendphoto")

			e, err := NewEditor(EditorOptions{Store: st, Client: c, Owner: "e1", Channels: []bot.Channel{ch},
				Sources: map[string]Source{src.ID: src}, BaseURL: "https://example.org",
				Pacing: Pacing{Chat: 50, Group: 50}, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := e.RunOnce(ctx); n != 0 {
				t.Fatalf("edits before any change: %d", n)
			}
			err = st.CorrectItem(ctx, id, store.ItemCorrection{OriginalHash: "h1", TitleEN: "Greater Bay Area meeting",
				ContentHTMLEN: stored.ContentHTMLEN, Editor: "e", At: time.Now(),
				Changes: []store.Correction{{Field: "title", Source: "大湾区会议", OldEN: tr.TitleEN, NewEN: "Greater Bay Area meeting"}}})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := e.RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("edit run: %d, %v", n, err)
			}
			edits := srv.Edits(ch.Address)
			if len(edits) != 1 || edits[0].Method != tc.wantMethod || !strings.Contains(edits[0].Visible, "Greater Bay Area meeting") {
				t.Fatalf("edits = %+v, want one %s with the corrected title", edits, tc.wantMethod)
			}
			if got := srv.Requests("sendmessage") + srv.Requests("sendphoto"); got != sends {
				t.Errorf("the edit sent %d new message(s)", got-sends)
			}
			if n, _ := st.PendingEdits(ctx); n != 0 {
				t.Errorf("%d edits left", n)
			}
			// The same English again (a whitespace-only source edit): nothing queued.
			cur, _ := st.GetItem(ctx, id)
			same := model.Translation{TitleEN: cur.TitleEN, SummaryEN: cur.SummaryEN, ContentHTMLEN: cur.ContentHTMLEN, TranslatedBy: "deepl"}
			if err := st.MarkReady(ctx, id, same, nil, time.Now()); err != nil {
				t.Fatal(err)
			}
			if n, _ := e.RunOnce(ctx); n != 0 {
				t.Fatalf("an identical retranslation queued %d edit(s)", n)
			}
			// A save Telegram shows no difference for: "not modified" ends it.
			err = st.CorrectItem(ctx, id, store.ItemCorrection{OriginalHash: "h1", TitleEN: cur.TitleEN, SummaryEN: cur.SummaryEN,
				ContentHTMLEN: cur.ContentHTMLEN, Editor: "e", At: time.Now(),
				Changes: []store.Correction{{Field: "title", Source: "大湾区会议", OldEN: cur.TitleEN, NewEN: cur.TitleEN}}})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := e.RunOnce(ctx); n != 1 || len(srv.Edits(ch.Address)) != 1 {
				t.Errorf("not-modified run: %d handled, edits %+v", n, srv.Edits(ch.Address))
			}
			if n, _ := st.PendingEdits(ctx); n != 0 {
				t.Errorf("%d edits left after not modified", n)
			}
		})
	}
}
