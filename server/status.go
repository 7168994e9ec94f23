package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/transfeed/transfeed/internal/redact"

	"github.com/transfeed/transfeed/feeds/syndicate"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// statusView is the /status page and its JSON form (?format=json).
type statusView struct {
	GeneratedAt time.Time         `json:"generated_at"`
	Sources     []sourceStatus    `json:"sources"`
	Translation translationStatus `json:"translation"`
	Channels    []channelStatus   `json:"channels"`
	Telegram    *telegramStatus   `json:"telegram,omitempty"` // this instance's connection; absent when Telegram is off
	// Human-readable times for the HTML page.
	GeneratedCST string `json:"-"`
	Refused      bool   `json:"-"` // some source has refused links
}

type sourceStatus struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	URL               string           `json:"url"`
	LastPoll          *time.Time       `json:"last_poll"`
	LastResult        model.PollStatus `json:"last_result"`
	NextPoll          *time.Time       `json:"next_poll"`
	ConsecutiveErrors int              `json:"consecutive_errors"`
	LastError         string           `json:"last_error,omitempty"`
	FailingSince      *time.Time       `json:"failing_since,omitempty"`
	PostsTotal        int              `json:"posts_total"`
	PostsLast24h      int              `json:"posts_last_24h"`
	// A type: html source without selectors: the shape of the list found
	// on its page, and its last change (the page's layout changed).
	ListShape      string     `json:"list_shape,omitempty"`
	ListShapeWas   string     `json:"list_shape_was,omitempty"`
	ShapeChangedAt *time.Time `json:"shape_changed_at,omitempty"`
	// ShapeAlert is set while a change is recent (ShapeAlertFor).
	ShapeAlert bool  `json:"shape_alert,omitempty"`
	Polls      int64 `json:"polls"`
	// Article pages fetched for full text and how many failed (those
	// posts kept their list summary), with the last failure.
	ArticleFetches     int64      `json:"article_fetches"`
	ArticleFailures    int64      `json:"article_fetches_failed"`
	LastArticleError   string     `json:"last_article_failure,omitempty"`
	LastArticleErrorAt *time.Time `json:"last_article_failure_at,omitempty"`
	// RefusedLinks is the latest poll whose links the address guard refused.
	RefusedLinks *refusedStatus `json:"refused_links,omitempty"`

	LastPollCST, NextPollCST, FailingSinceCST, ShapeChangedCST, LastArticleErrorCST string `json:"-"`
}

// ShapeAlertFor is how long /status flags a source whose list changed shape.
const ShapeAlertFor = 7 * 24 * time.Hour

type refusedStatus struct {
	At       time.Time           `json:"at"`
	Count    int                 `json:"count"`
	Examples []store.RefusedLink `json:"examples"`

	AtCST string `json:"-"`
}

type translationStatus struct {
	Backlog        int              `json:"backlog"`
	CharsToday     int64            `json:"chars_today"`
	DailyCharLimit int64            `json:"daily_char_limit"`
	Day            string           `json:"day"`
	Providers      []providerStatus `json:"providers"`
}

type providerStatus struct {
	Provider    string     `json:"provider"`
	CharsToday  int64      `json:"chars_today"`
	Requests    int64      `json:"requests_today"`
	Paused      bool       `json:"paused"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	Reason      string     `json:"reason,omitempty"`

	PausedUntilCST string `json:"-"`
}

type channelStatus struct {
	Channel     string     `json:"channel"`
	Pending     int        `json:"pending"`
	Sent        int        `json:"sent"`
	Failed      int        `json:"failed"`
	Paused      bool       `json:"paused"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	Reason      string     `json:"reason,omitempty"`

	PausedUntilCST string `json:"-"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Server) cst(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return syndicate.FormatCST(t, s.loc)
}

func (s *Server) collectStatus(ctx context.Context, now time.Time) (*statusView, error) {
	v := &statusView{GeneratedAt: now.UTC(), GeneratedCST: s.cst(now)}

	stored, err := s.st.ListSources(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("server: status: sources: %w", err)
	}
	refused, err := s.st.ListRefusedLinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("server: status: refused links: %w", err)
	}
	byID := make(map[string]model.Source, len(stored))
	for _, src := range stored {
		byID[src.ID] = src
	}
	for _, c := range s.cfg.Sources {
		st := byID[c.ID]
		result := st.LastStatus
		if st.LastPollAt.IsZero() {
			result = model.PollNever
		}
		v.Sources = append(v.Sources, sourceStatus{
			ID: c.ID, Name: s.source(c.ID).Name, URL: redact.URL(c.URL),
			LastPoll: timePtr(st.LastPollAt), LastResult: result, NextPoll: timePtr(st.NextPollAt),
			ConsecutiveErrors: st.ConsecutiveErrors, LastError: st.LastError, FailingSince: timePtr(st.FailingSince),
			PostsTotal: st.ItemCount, PostsLast24h: st.ItemsLast24h, Polls: st.Polls,
			LastPollCST: s.cst(st.LastPollAt), NextPollCST: s.cst(st.NextPollAt), FailingSinceCST: s.cst(st.FailingSince),
			ListShape: st.ListShape, ListShapeWas: st.ListShapeWas, ShapeChangedAt: timePtr(st.ShapeChangedAt),
			ShapeAlert:      !st.ShapeChangedAt.IsZero() && now.Sub(st.ShapeChangedAt) < ShapeAlertFor,
			ShapeChangedCST: s.cst(st.ShapeChangedAt),
			ArticleFetches:  st.ArticleFetches, ArticleFailures: st.ArticleFailures,
			LastArticleError: st.LastArticleError, LastArticleErrorAt: timePtr(st.LastArticleErrorAt),
			LastArticleErrorCST: s.cst(st.LastArticleErrorAt),
		})
		if ref := refused[c.ID]; ref.Count > 0 {
			v.Sources[len(v.Sources)-1].RefusedLinks = &refusedStatus{At: ref.At.UTC(), Count: ref.Count, Examples: ref.Examples, AtCST: s.cst(ref.At)}
			v.Refused = true
		}
	}

	tr := &v.Translation
	tr.DailyCharLimit = s.cfg.Translation.DailyCharLimit
	tr.Day = now.UTC().Format("2006-01-02")
	if tr.Backlog, err = s.st.TranslationBacklog(ctx); err != nil {
		return nil, fmt.Errorf("server: status: backlog: %w", err)
	}
	if p := s.cfg.Translation.Provider; p != "" && p != "none" {
		u, err := s.st.GetUsage(ctx, tr.Day, p)
		if err != nil {
			return nil, fmt.Errorf("server: status: usage: %w", err)
		}
		ps, err := s.st.GetProviderState(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("server: status: provider state: %w", err)
		}
		paused := ps.PausedUntil.After(now)
		pst := providerStatus{Provider: p, CharsToday: u.Chars, Requests: u.Requests, Paused: paused}
		if paused {
			pst.PausedUntil, pst.Reason, pst.PausedUntilCST = timePtr(ps.PausedUntil), ps.Reason, s.cst(ps.PausedUntil)
		}
		tr.CharsToday += u.Chars
		tr.Providers = append(tr.Providers, pst)
	}

	backlogs, err := s.st.DeliveryBacklogs(ctx)
	if err != nil {
		return nil, fmt.Errorf("server: status: deliveries: %w", err)
	}
	states, err := s.st.ListChannelStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("server: status: channels: %w", err)
	}
	chans := map[string]*channelStatus{}
	var order []string
	get := func(key string) *channelStatus {
		if c, ok := chans[key]; ok {
			return c
		}
		c := &channelStatus{Channel: key}
		chans[key] = c
		order = append(order, key)
		return c
	}
	for _, ch := range s.cfg.Telegram.Channels {
		get(ch.Key())
	}
	for _, b := range backlogs {
		c := get(b.Channel)
		c.Pending, c.Sent, c.Failed = b.Pending, b.Sent, b.Failed
	}
	for _, st := range states {
		c := get(st.Channel)
		c.Paused = st.Paused || st.PausedUntil.After(now)
		if c.Paused {
			c.Reason = st.Reason
			if st.PausedUntil.After(now) {
				c.PausedUntil, c.PausedUntilCST = timePtr(st.PausedUntil), s.cst(st.PausedUntil)
			}
		}
	}
	for _, k := range order {
		v.Channels = append(v.Channels, *chans[k])
	}
	v.Telegram = s.telegramStatus()
	return v, nil
}

// statusTTL is how long a rendered /status is served again: the page
// costs O(sources) to collect and render, so a burst of requests (or a
// monitor polling it) is answered from one rendering a second, which
// renders once however many requests wait for it.
const statusTTL = time.Second

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	asJSON := r.URL.Query().Get("format") == "json"
	render := func() (*rendered, error) { return s.renderStatus(r.Context(), asJSON) }
	var (
		rd  *rendered
		err error
	)
	if s.statusTTL > 0 {
		key := "/status"
		if asJSON {
			key += "?format=json"
		}
		slot := s.now().UnixNano() / int64(s.statusTTL)
		rd, err = s.cache.get(key, `W/"status-`+strconv.FormatInt(slot, 36)+`"`, render)
	} else {
		rd, err = render()
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !asJSON {
		w.Header().Set("Content-Security-Policy", cspHTML)
	}
	rd.write(w, r, http.StatusOK)
}

// renderStatus collects and renders /status (HTML, or JSON).
func (s *Server) renderStatus(ctx context.Context, asJSON bool) (*rendered, error) {
	v, err := s.collectStatus(ctx, s.now())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if asJSON {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("server: status json: %w", err)
		}
		return newRenderedLevel(buf.Bytes(), gzip.DefaultCompression, "application/json; charset=utf-8", "no-store", time.Time{})
	}
	d := s.basePage("Status — " + s.title)
	d.Status = v
	if err := s.tmpl["status"].Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("server: status page: %w", err)
	}
	return newRenderedLevel(buf.Bytes(), gzip.DefaultCompression, "text/html; charset=utf-8", "no-store", time.Time{})
}

// handleHealthz answers 200 "ok" when the store answers, 503 otherwise.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.st.Ping(ctx); err != nil {
		s.logger.Warn("health check failed", slog.Any("error", err))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("store unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
