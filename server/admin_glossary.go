package server

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// glossaryView is /admin/glossary: the configured (read-only) and stored
// entries, and for one term the ready posts containing it with what
// retranslating them would cost.
type glossaryView struct {
	Config  []glossRow
	Stored  []glossRow
	Term    string
	Target  string
	Preview *termPreview
}

type glossRow struct {
	Source, Target, AddedBy, Added string
}

type termPreview struct {
	Posts     []previewRow
	Chars     int64
	Segments  int
	Scanned   int
	Estimated bool // an engine is configured: costs are known
	More      bool // more posts contain the term than one action retranslates
}

type previewRow struct {
	ID       int64
	Title    string
	Chars    int64
	Segments int
}

func (s *Server) handleGlossary(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	s.renderGlossary(w, r, sess, http.StatusOK, strings.TrimSpace(q.Get("term")), q.Get("msg"), "")
}

func (s *Server) renderGlossary(w http.ResponseWriter, r *http.Request, sess *session, code int, term, msg, errMsg string) {
	ctx := r.Context()
	gv := &glossaryView{Term: term}
	for _, src := range slices.Sorted(maps.Keys(s.admin.deps.ConfigGlossary)) {
		gv.Config = append(gv.Config, glossRow{Source: src, Target: s.admin.deps.ConfigGlossary[src]})
	}
	stored, err := s.admin.deps.Store.GlossaryEntries(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, e := range stored {
		gv.Stored = append(gv.Stored, glossRow{Source: e.Source, Target: e.Target, AddedBy: e.AddedBy, Added: e.CreatedAt.In(s.loc).Format("2006-01-02 15:04")})
		if e.Source == term {
			gv.Target = e.Target
		}
	}
	if term != "" {
		if gv.Target == "" {
			gv.Target = s.admin.deps.ConfigGlossary[term]
		}
		_, p, err := s.termPosts(r, term)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		gv.Preview = p
	}
	s.renderAdmin(w, r, "glossary", code, adminPage{Title: "Glossary", CSRF: sess.CSRF, Message: msg, Error: errMsg, Glossary: gv})
}

// termPosts finds the ready posts among the newest glossaryScanPost that
// contain term, and what translating each again would cost (nothing is
// sent: the engine plans with today's glossary and memories).
func (s *Server) termPosts(r *http.Request, term string) ([]model.Item, *termPreview, error) {
	ctx := r.Context()
	items, err := s.st.ListItems(ctx, store.ItemQuery{States: []model.State{model.StateReady}, Limit: glossaryScanPost})
	if err != nil {
		return nil, nil, err
	}
	p := &termPreview{Scanned: len(items), Estimated: s.admin.deps.Engine != nil}
	var out []model.Item
	for _, it := range items {
		if !model.EnglishOf(it).Translated {
			continue
		}
		if !strings.Contains(it.Title, term) && !strings.Contains(it.Summary, term) && !strings.Contains(it.ContentHTML, term) {
			continue
		}
		if len(out) == maxRetranslate {
			p.More = true
			break
		}
		out = append(out, it)
		row := previewRow{ID: it.ID, Title: model.EnglishOf(it).Title}
		if s.admin.deps.Engine != nil {
			est, err := s.admin.deps.Engine.EstimateItem(ctx, it)
			if err != nil {
				return nil, nil, fmt.Errorf("server: estimate post %d: %w", it.ID, err)
			}
			row.Chars, row.Segments = est.Chars, est.Segments
			p.Chars += est.Chars
			p.Segments += est.Segments
		}
		p.Posts = append(p.Posts, row)
	}
	return out, p, nil
}

// handleGlossaryAdd stores "always translate Source as Target" and shows
// the posts it affects with their cost; nothing is retranslated yet.
func (s *Server) handleGlossaryAdd(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	src := strings.TrimSpace(r.PostFormValue("source"))
	tgt := strings.TrimSpace(r.PostFormValue("target"))
	switch {
	case src == "" || tgt == "":
		s.renderGlossary(w, r, sess, http.StatusBadRequest, src, "", "Give both the term and its translation.")
		return
	case !utf8.ValidString(src) || !utf8.ValidString(tgt) || strings.ContainsAny(src+tgt, "\t\r\n"):
		s.renderGlossary(w, r, sess, http.StatusBadRequest, "", "", "The term and its translation must be one line of text each.")
		return
	case utf8.RuneCountInString(src) > 100 || utf8.RuneCountInString(tgt) > 300:
		s.renderGlossary(w, r, sess, http.StatusBadRequest, "", "", "The term or its translation is too long.")
		return
	}
	if cfg, ok := s.admin.deps.ConfigGlossary[src]; ok {
		s.renderGlossary(w, r, sess, http.StatusConflict, src, "",
			fmt.Sprintf("%q is in the configured glossary (as %q), which is read-only here; change it in the config file.", src, cfg))
		return
	}
	now := s.admin.deps.Now()
	if err := s.admin.deps.Store.PutGlossaryEntry(ctx, store.GlossaryEntry{Source: src, Target: tgt, AddedBy: sess.actor, CreatedAt: now}); err != nil {
		s.serverError(w, r, err)
		return
	}
	detail := src + " → " + tgt
	var itemID int64
	if from := r.PostFormValue("from"); from != "" {
		detail += " (from post " + from + ")"
		_, _ = fmt.Sscan(from, &itemID)
	}
	s.audit(ctx, store.AuditEntry{At: now, Actor: sess.actor, Action: "glossary-add", ItemID: itemID, Detail: detail})
	msg := fmt.Sprintf("Added: always translate %s as %s. It applies to every post translated from now on.", src, tgt)
	http.Redirect(w, r, adminPath+"/glossary?term="+url.QueryEscape(src)+"&msg="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (s *Server) handleGlossaryDelete(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	src := r.PostFormValue("source")
	if err := s.admin.deps.Store.DeleteGlossaryEntry(ctx, src); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(ctx, store.AuditEntry{At: s.admin.deps.Now(), Actor: sess.actor, Action: "glossary-delete", Detail: src})
	http.Redirect(w, r, adminPath+"/glossary?msg="+url.QueryEscape("Removed "+src+"."), http.StatusSeeOther)
}

// handleGlossaryRetranslate translates again, in one action, the ready
// posts that contain a term (the ones the preview listed).
func (s *Server) handleGlossaryRetranslate(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	term := strings.TrimSpace(r.PostFormValue("term"))
	if s.admin.deps.Engine == nil {
		s.renderGlossary(w, r, sess, http.StatusConflict, term, "", "No translation provider is configured.")
		return
	}
	if term == "" {
		s.renderGlossary(w, r, sess, http.StatusBadRequest, "", "", "No term given.")
		return
	}
	posts, _, err := s.termPosts(r, term)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var done, failed int
	var chars int64
	for _, it := range posts {
		res, err := s.admin.deps.Engine.TranslateItem(ctx, it)
		if err != nil {
			failed++
			s.logger.Warn("admin retranslation failed", slog.Int64("item_id", it.ID), slog.Any("error", err))
			if errors.Is(err, translate.ErrBudget) || ctx.Err() != nil {
				break
			}
			continue
		}
		chars += res.CharsSent
		t := res.Translation
		t.OriginalHash = it.ContentHash
		if err := s.admin.deps.Store.MarkReady(ctx, it.ID, t, nil, s.admin.deps.Now()); err != nil {
			if errors.Is(err, store.ErrStale) {
				failed++
				continue
			}
			s.serverError(w, r, err)
			return
		}
		done++
		if s.admin.deps.Changed != nil {
			s.admin.deps.Changed(ctx, it.ID)
		}
	}
	s.forgetVersions()
	s.audit(ctx, store.AuditEntry{At: s.admin.deps.Now(), Actor: sess.actor, Action: "retranslate",
		Detail: fmt.Sprintf("term %s: %d post(s) retranslated, %d failed, %d characters sent", term, done, failed, chars)})
	msg := fmt.Sprintf("Retranslated %d post(s) (%d characters sent)", done, chars)
	if failed > 0 {
		msg += fmt.Sprintf("; %d failed (see the log) and keep their English", failed)
	}
	http.Redirect(w, r, adminPath+"/glossary?term="+url.QueryEscape(term)+"&msg="+url.QueryEscape(msg+"."), http.StatusSeeOther)
}

// handleGlossaryTSV exports the stored entries as a glossary file
// (term<TAB>translation), ready for translation.glossary_file.
func (s *Server) handleGlossaryTSV(w http.ResponseWriter, r *http.Request, _ *session) {
	es, err := s.admin.deps.Store.GlossaryEntries(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var b strings.Builder
	b.WriteString("# transfeed glossary entries added from the admin pages: term<TAB>translation\n")
	for _, e := range es {
		b.WriteString(e.Source + "\t" + e.Target + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "text/tab-separated-values; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="glossary.tsv"`)
	_, _ = w.Write([]byte(b.String()))
}
