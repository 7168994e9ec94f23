package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/internal/tgtemplate"
	"github.com/transfeed/transfeed/model"
)

// withImages is the translated item with n pictures in its body.
func withImages(t testing.TB, n int) model.Item {
	it := translatedItem(t)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<p><img src="https://www.zhaoqing.gov.cn/img/%d.jpg"></p>`, i)
	}
	it.ContentHTML = b.String() + "<p>正文。</p>"
	it.ContentHTMLEN = b.String() + "<p>On May 25, the city signed 12 projects. Leaders attended.</p>"
	return it
}

func mustTemplate(t testing.TB, text string) *tgtemplate.Template {
	t.Helper()
	tpl, err := tgtemplate.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestCompose(t *testing.T) {
	ch := bot.Channel{Key: "@zq", Address: "@zq", SummaryChars: 600}
	video := translatedItem(t)
	video.Media = model.MediaVideo
	audio := translatedItem(t)
	audio.Media = model.MediaAudio
	tests := []struct {
		name    string
		it      model.Item
		st      Style
		summary string
		photo   bool
		check   func(t *testing.T, m Message, vis string)
	}{
		{name: "one picture: photo", it: withImages(t, 1), photo: true, check: func(t *testing.T, m Message, _ string) {
			if m.Photo != "https://www.zhaoqing.gov.cn/img/0.jpg" || m.Album != nil {
				t.Errorf("photo %q album %q", m.Photo, m.Album)
			}
		}},
		{name: "five pictures: one album", it: withImages(t, 5), photo: true, check: func(t *testing.T, m Message, vis string) {
			if len(m.Album) != 5 || m.Photo != "" || strings.Contains(vis, "more picture") {
				t.Errorf("album %d, photo %q:\n%s", len(m.Album), m.Photo, vis)
			}
		}},
		{name: "fifteen pictures: ten and a link", it: withImages(t, 15), photo: true, check: func(t *testing.T, m Message, vis string) {
			if len(m.Album) != 10 || !strings.Contains(vis, "5 more pictures on the original site") ||
				!strings.Contains(m.Text, `<a href="http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_1.html?a=1&amp;b=2">5 more pictures`) {
				t.Errorf("album %d:\n%s", len(m.Album), m.Text)
			}
		}},
		{name: "pictures off: text, preview of the English page", it: withImages(t, 5), st: Style{PreviewPost: true}, check: func(t *testing.T, m Message, vis string) {
			if m.Album != nil || m.Photo != "" || m.Preview != PreviewPage || m.PreviewURL != "https://example.org/posts/42" {
				t.Errorf("album %d photo %q preview %v %q", len(m.Album), m.Photo, m.Preview, m.PreviewURL)
			}
		}},
		{name: "preview off", it: translatedItem(t), check: func(t *testing.T, m Message, _ string) {
			if m.Preview != PreviewOff {
				t.Errorf("preview %v, want off", m.Preview)
			}
		}},
		{name: "video: labelled link", it: video, check: func(t *testing.T, m Message, vis string) {
			if !strings.Contains(vis, "▶ Video in the original") || !strings.Contains(m.Text, `">Video in the original</a>`) {
				t.Errorf("no video link:\n%s", m.Text)
			}
		}},
		{name: "audio: labelled link", it: audio, check: func(t *testing.T, m Message, vis string) {
			if !strings.Contains(vis, "Audio in the original") {
				t.Errorf("no audio link:\n%s", vis)
			}
		}},
		{name: "summary instead of the lead", it: translatedItem(t), summary: "Zhaoqing held a press conference on the Greater Bay Area <2026> & more.",
			check: func(t *testing.T, m Message, vis string) {
				if !strings.Contains(vis, "Zhaoqing held a press conference on the Greater Bay Area <2026> & more.") || strings.Contains(vis, "Zhaoqing Municipal") {
					t.Errorf("summary not shown alone:\n%s", vis)
				}
			}},
		{name: "template", it: translatedItem(t), summary: "The summary.", st: Style{Template: mustTemplate(t, "<b>{{.Title}}</b>\n{{.Summary}}\n{{link .ReadURL .ReadLabel}}")},
			check: func(t *testing.T, m Message, vis string) {
				want := "Zhaoqing holds press conference on <Greater Bay Area> & growth\nThe summary.\nRead in English"
				if vis != want || m.TemplateErr != nil {
					t.Errorf("visible %q, want %q (template error %v)", vis, want, m.TemplateErr)
				}
			}},
		{name: "template too long for a caption: cut, markup intact", it: withImages(t, 3), photo: true,
			st: Style{Template: mustTemplate(t, "<b>{{.Title}}</b>\n<blockquote>"+strings.Repeat("Boilerplate text. ", 80)+"{{.Summary}}</blockquote>")},
			check: func(t *testing.T, m Message, vis string) {
				if len(m.Album) != 3 || telegramtest.VisibleLen(vis) > 1024 || !strings.HasSuffix(m.Text, "…</blockquote>") {
					t.Errorf("album %d, %d characters:\n%s", len(m.Album), telegramtest.VisibleLen(vis), m.Text)
				}
			}},
		{name: "template failing at delivery: built-in format", it: withImages(t, 7), photo: true, st: Style{Template: mustTemplate(t, "{{if gt .Images 5}}<b>{{end}}{{.Title}}")},
			check: func(t *testing.T, m Message, vis string) {
				if m.TemplateErr == nil || !strings.Contains(vis, "Read in English") {
					t.Errorf("template error %v:\n%s", m.TemplateErr, vis)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Compose(tc.it, testSource(), ch, tc.st, "https://example.org", tc.summary, tc.photo)
			checkTelegram(t, m)
			tc.check(t, m, visible(t, m.Text))
		})
	}
}

// fakeSummaries is a Summarizer that counts its calls.
type fakeSummaries struct {
	mu    sync.Mutex
	calls int
	text  string
}

func (f *fakeSummaries) SummaryText(context.Context, model.Item) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.text
}

// TestNotifyAlbumsAndStyles sends through the strict fake Bot API: a
// 5-picture post is one album, a 15-picture post one album of ten and a
// link, a summary channel shows the summary, a text message carries its
// link preview, and the fake accepts every message.
func TestNotifyAlbumsAndStyles(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{})
	sum := &fakeSummaries{text: "The city signed 12 projects on May 25."}
	n, err := NewNotifier(NotifierOptions{Client: newTestClient(t, srv), BaseURL: "https://example.org",
		Sources:   map[string]Source{"zhaoqing-news": testSource()},
		Styles:    map[string]Style{"@llm_chan": {Summarize: true, PreviewPost: true}, "@tpl_chan": {Template: mustTemplate(t, "<b>{{.Title}}</b> {{.Images}} pictures")}},
		Summaries: sum})
	if err != nil {
		t.Fatal(err)
	}
	send := func(chat string, it model.Item, photo bool) {
		t.Helper()
		if _, err := n.Notify(t.Context(), bot.Post{Channel: bot.Channel{Key: chat, Address: chat, Photo: photo}, Address: chat, Item: it}); err != nil {
			t.Fatalf("Notify to %s: %v", chat, err)
		}
	}
	send("@albums", withImages(t, 5), true)
	send("@albums", withImages(t, 15), true)
	send("@llm_chan", translatedItem(t), false)
	send("@tpl_chan", withImages(t, 4), true)

	if r := srv.Rejections(); len(r) != 0 {
		t.Fatalf("the strict fake refused: %q", r)
	}
	albums := srv.Messages("@albums")
	if len(albums) != 2 || albums[0].Method != "sendmediagroup" || len(albums[0].Media) != 5 ||
		albums[1].Method != "sendmediagroup" || len(albums[1].Media) != 10 || !strings.Contains(albums[1].Visible, "5 more pictures on the original site") {
		t.Fatalf("albums: %+v", albums)
	}
	llm := srv.Messages("@llm_chan")
	if len(llm) != 1 || !strings.Contains(llm[0].Visible, sum.text) || llm[0].LinkPreview.URL != "https://example.org/posts/42" || sum.calls != 1 {
		t.Errorf("summary channel: %+v (summarizer called %d times)", llm, sum.calls)
	}
	tpl := srv.Messages("@tpl_chan")
	if len(tpl) != 1 || !strings.HasSuffix(tpl[0].Visible, "4 pictures") {
		t.Errorf("template channel: %+v", tpl)
	}
}

// TestAlbumRefusedTriesPlain: when Telegram cannot take the pictures, the
// outbox is told to send the text form.
func TestAlbumRefusedTriesPlain(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{})
	srv.FailPhotos("Bad Request: failed to get HTTP URL content")
	n, err := NewNotifier(NotifierOptions{Client: newTestClient(t, srv), BaseURL: "https://example.org"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Notify(t.Context(), bot.Post{Channel: bot.Channel{Key: "@chan_c", Address: "@chan_c", Photo: true}, Address: "@chan_c", Item: withImages(t, 3)})
	var e *bot.Error
	if !errors.As(err, &e) || e.Kind != bot.KindTryPlain {
		t.Fatalf("err = %v, want KindTryPlain", err)
	}
}

func TestComposeTemplateMetadata(t *testing.T) {
	it := translatedItem(t)
	it.Meta = map[string]string{"发文字号": "肇府〔2026〕12号 <x> & y"}
	st := Style{Template: mustTemplate(t, `<b>{{.Title}}</b>{{with index .Meta "发文字号"}} · {{.}}{{end}}`)}
	m := Compose(it, testSource(), bot.Channel{Key: "@zq", Address: "@zq", SummaryChars: 600}, st, "https://example.org", "", false)
	checkTelegram(t, m)
	if vis := visible(t, m.Text); !strings.HasSuffix(vis, " · 肇府〔2026〕12号 <x> & y") {
		t.Errorf("visible %q", vis)
	}
}
