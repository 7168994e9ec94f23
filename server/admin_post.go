package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// adminPostView is the correction page of one post.
type adminPostView struct {
	ID            int64
	Title         string
	Public        string // the post's public page
	Hash          string // the ContentHash the editor sees (stale guard)
	Notice        string
	Lang          string
	Editable      bool
	Why           string // why the post cannot be corrected
	Blocks        []blockRow
	History       []historyRow
	Audit         []auditRow
	CanRetranslte bool
}

// blockRow is one editable block: its field name in the form, the
// original and the English.
type blockRow struct {
	Name, Label      string
	Original         string
	English          string
	HTML             bool // the block is inner HTML (inline tags kept)
	Rows             int
	Corrected, Human bool
}

type historyRow struct {
	Time, Label, Old, New, Editor string
}

// postBlocks lists the correctable blocks of a post: the title, the
// summary (when it has Chinese) and each translatable block of the body.
func postBlocks(it model.Item) ([]blockRow, []translate.BlockPair, error) {
	var rows []blockRow
	add := func(name, label, orig, en string, html bool) {
		n := len([]rune(en))/70 + 2
		rows = append(rows, blockRow{Name: name, Label: label, Original: orig, English: en, HTML: html, Rows: min(n, 12)})
	}
	if strings.TrimSpace(it.Title) != "" {
		add("title", "Title", strings.TrimSpace(it.Title), it.TitleEN, false)
	}
	if hasHan(it.Summary) && it.SummaryEN != "" {
		add("summary", "Summary", strings.TrimSpace(it.Summary), it.SummaryEN, false)
	}
	pairs, err := translate.PairBlocks(it.ContentHTML, it.ContentHTMLEN)
	if err != nil {
		return rows, nil, err
	}
	for _, p := range pairs {
		add("block-"+strconv.Itoa(p.Index), "Paragraph "+strconv.Itoa(p.Index+1), p.Original, p.English, p.Format == translate.FormatHTML)
	}
	return rows, pairs, nil
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x3400 && r <= 0x9fff || r >= 0xf900 && r <= 0xfaff || r >= 0x20000 && r <= 0x2ffff {
			return true
		}
	}
	return false
}

// correctable says whether a post's English may be corrected, and why not.
func correctable(it model.Item) (bool, string) {
	switch {
	case it.State != model.StateReady:
		return false, "The post is not published yet."
	case !model.EnglishOf(it).Translated:
		return false, "The post is not (fully) machine-translated; there is no English to correct."
	}
	return true, ""
}

func (s *Server) adminItem(w http.ResponseWriter, r *http.Request) (model.Item, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return model.Item{}, false
	}
	it, err := s.st.GetItem(r.Context(), id)
	if errors.Is(err, model.ErrNotFound) {
		s.notFound(w, r)
		return model.Item{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return model.Item{}, false
	}
	return it, true
}

func (s *Server) handleAdminPost(w http.ResponseWriter, r *http.Request, sess *session) {
	it, ok := s.adminItem(w, r)
	if !ok {
		return
	}
	s.renderAdminPost(w, r, sess, it, http.StatusOK, r.URL.Query().Get("msg"), "")
}

func (s *Server) renderAdminPost(w http.ResponseWriter, r *http.Request, sess *session, it model.Item, code int, msg, errMsg string) {
	ctx := r.Context()
	en := model.EnglishOf(it)
	pv := &adminPostView{ID: it.ID, Title: en.Title, Public: "/posts/" + strconv.FormatInt(it.ID, 10), Hash: it.ContentHash,
		Notice: en.Notice, Lang: it.Language, CanRetranslte: s.admin.deps.Engine != nil}
	if pv.Lang == "" {
		pv.Lang = "zh"
	}
	pv.Editable, pv.Why = correctable(it)
	if pv.Editable {
		rows, _, err := postBlocks(it)
		if err != nil {
			pv.Editable = false
			pv.Why = "The English body does not follow the original's paragraphs (it was made by an older version); retranslate the post first."
		}
		pv.Blocks = rows
	}
	hist, err := s.admin.deps.Store.ListCorrections(ctx, it.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pv.History = s.historyRows(hist)
	audit, err := s.admin.deps.Store.ListAudit(ctx, it.ID, 50)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pv.Audit = s.auditRows(audit)
	s.renderAdmin(w, r, "post", code, adminPage{Title: "Correct: " + en.Title, CSRF: sess.CSRF, Message: msg, Error: errMsg, Post: pv})
}

func blockLabel(c store.Correction) string {
	switch c.Field {
	case "title":
		return "Title"
	case "summary":
		return "Summary"
	}
	return "Paragraph " + strconv.Itoa(c.Block+1)
}

func (s *Server) historyRows(cs []store.Correction) []historyRow {
	out := make([]historyRow, len(cs))
	for i, c := range cs {
		out[i] = historyRow{Time: c.At.In(s.loc).Format("2006-01-02 15:04"), Label: blockLabel(c), Old: c.OldEN, New: c.NewEN, Editor: c.Editor}
	}
	return out
}

// handleAdminCorrect saves the edited blocks: each changed one replaces the
// machine text in the post and becomes a human translation of its block.
func (s *Server) handleAdminCorrect(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	it, ok := s.adminItem(w, r)
	if !ok {
		return
	}
	if ok, why := correctable(it); !ok {
		s.renderAdminPost(w, r, sess, it, http.StatusConflict, "", why)
		return
	}
	if r.PostFormValue("hash") != it.ContentHash {
		s.renderAdminPost(w, r, sess, it, http.StatusConflict, "", "The original changed since the page was opened; nothing was saved. Check the blocks again.")
		return
	}
	rows, pairs, err := postBlocks(it)
	if err != nil {
		s.renderAdminPost(w, r, sess, it, http.StatusConflict, "", "The English body cannot be split into paragraphs; retranslate the post first.")
		return
	}
	c := store.ItemCorrection{OriginalHash: it.ContentHash, TitleEN: it.TitleEN, SummaryEN: it.SummaryEN,
		ContentHTMLEN: it.ContentHTMLEN, Editor: sess.actor, At: s.admin.deps.Now()}
	edits := map[int]string{}
	for _, row := range rows {
		v, present := r.PostForm[row.Name]
		if !present || len(v) != 1 {
			continue
		}
		next := strings.TrimSpace(strings.ReplaceAll(v[0], "\r\n", "\n"))
		if row.HTML {
			next = strings.TrimSpace(s.policy.Sanitize(next))
		} else {
			next = strings.Join(strings.Fields(next), " ")
		}
		if next == "" || next == strings.TrimSpace(row.English) {
			continue
		}
		format := translate.FormatText
		ch := store.Correction{Source: row.Original, OldEN: row.English, NewEN: next}
		switch {
		case row.Name == "title":
			ch.Field, c.TitleEN = "title", next
		case row.Name == "summary":
			ch.Field, c.SummaryEN = "summary", next
		default:
			i, _ := strconv.Atoi(strings.TrimPrefix(row.Name, "block-"))
			ch.Field, ch.Block = "content", i
			edits[i] = next
			format = pairs[i].Format
		}
		c.Changes = append(c.Changes, ch)
		c.Human = append(c.Human, store.HumanEntry{
			Key:    translate.HumanKey(s.admin.deps.SourceLang, s.admin.deps.TargetLang, format, row.Original),
			Source: row.Original, Target: next,
		})
	}
	if len(c.Changes) == 0 {
		s.renderAdminPost(w, r, sess, it, http.StatusOK, "Nothing changed.", "")
		return
	}
	if len(edits) > 0 {
		if c.ContentHTMLEN, err = translate.ReplaceBlocks(it.ContentHTML, it.ContentHTMLEN, edits); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if err := s.admin.deps.Store.CorrectItem(ctx, it.ID, c); err != nil {
		if errors.Is(err, store.ErrStale) || errors.Is(err, model.ErrNotFound) {
			s.renderAdminPost(w, r, sess, it, http.StatusConflict, "", "The post changed since the page was opened; nothing was saved.")
			return
		}
		s.serverError(w, r, err)
		return
	}
	s.forgetVersions()
	if s.admin.deps.Changed != nil {
		s.admin.deps.Changed(ctx, it.ID)
	}
	msg := fmt.Sprintf("Saved %d correction(s). They are used for the same text in every future post.", len(c.Changes))
	http.Redirect(w, r, fmt.Sprintf("%s/posts/%d?msg=%s", adminPath, it.ID, url.QueryEscape(msg)), http.StatusSeeOther)
}
