package standin

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Stats is what GET /stats answers. README.md documents every field.
type Stats struct {
	Now       time.Time      `json:"now"`
	Uptime    float64        `json:"uptime_seconds"`
	Sources   SourceStats    `json:"sources"`
	Translate TranslateStats `json:"translate"`
	Telegram  TelegramStats  `json:"telegram"`
}

// SourceStats counts the source farm's work.
type SourceStats struct {
	Count          int   `json:"count"`
	Polls          int64 `json:"polls"`
	Conditional    int64 `json:"conditional"`
	NotModified    int64 `json:"not_modified"`
	OK             int64 `json:"ok"`
	Faults         int64 `json:"faults"`
	Failures       int64 `json:"failures"`
	Stalls         int64 `json:"stalls"`
	Edits          int64 `json:"edits"`
	BytesServed    int64 `json:"bytes_served"`
	PostsPublished int   `json:"posts_published"`
	PostsServed    int   `json:"posts_served"`
}

// TranslateStats counts the translation stand-in's work.
type TranslateStats struct {
	Requests  int64 `json:"requests"`
	OK        int64 `json:"ok"`
	Texts     int64 `json:"texts"`
	Chars     int64 `json:"chars"`
	Errors    int64 `json:"errors"`
	Malformed int64 `json:"malformed"`
	// Summary requests (summary: llm), counted apart from translations:
	// requests, characters of post text received, answers with an
	// invented number.
	Summaries     int64 `json:"summaries"`
	SummaryChars  int64 `json:"summary_chars"`
	SummaryInvent int64 `json:"summary_invented"`
}

// TelegramStats counts the Bot API stand-in's work.
type TelegramStats struct {
	Messages             int                   `json:"messages"`
	Methods              map[string]int        `json:"methods"`
	PerChat              map[string]*ChatStats `json:"per_chat"`
	Duplicates           int                   `json:"duplicates"`
	RetryAfterViolations int                   `json:"retry_after_violations"`
	PacingViolations     int                   `json:"pacing_violations"`
	RateLimited          int                   `json:"rate_limited"`
	Rejected             int                   `json:"rejected"`
	Malformed            int                   `json:"malformed"`
	DownResponses        int                   `json:"down_responses"`
	GetUpdatesConflicts  int                   `json:"getupdates_conflicts"`
	Commands             int                   `json:"commands"`
}

// Published is one post the farm has published (GET /published).
type Published struct {
	Source      int        `json:"source"`
	GUID        string     `json:"guid"`
	Published   time.Time  `json:"published"`
	FirstServed *time.Time `json:"first_served,omitempty"`
}

// Stats returns a snapshot of every counter.
func (s *Server) Stats() Stats {
	now := s.now()
	f := s.farm
	st := Stats{
		Now:    now,
		Uptime: now.Sub(s.start).Seconds(),
		Sources: SourceStats{
			Count:       len(f.sources),
			Polls:       f.polls.Load(),
			Conditional: f.conditional.Load(),
			NotModified: f.notModified.Load(),
			OK:          f.ok.Load(),
			Failures:    f.failures.Load(),
			Stalls:      f.stalls.Load(),
			Edits:       f.edits.Load(),
			BytesServed: f.bytes.Load(),
		},
		Translate: TranslateStats{
			Requests:  s.tr.requests.Load(),
			OK:        s.tr.ok.Load(),
			Texts:     s.tr.texts.Load(),
			Chars:     s.tr.chars.Load(),
			Errors:    s.tr.errors.Load(),
			Malformed: s.tr.malformed.Load(),

			Summaries:     s.tr.summaries.Load(),
			SummaryChars:  s.tr.summaryChars.Load(),
			SummaryInvent: s.tr.invented.Load(),
		},
	}
	st.Sources.Faults = st.Sources.Failures + st.Sources.Stalls
	for _, src := range f.sources {
		st.Sources.PostsPublished += f.count(src, now)
		src.mu.Lock()
		st.Sources.PostsServed += len(src.firstServed)
		src.mu.Unlock()
	}
	t := s.tg
	t.mu.Lock()
	defer t.mu.Unlock()
	st.Telegram = TelegramStats{
		Messages:            len(t.messages),
		Methods:             maps.Clone(t.methods),
		PerChat:             make(map[string]*ChatStats, len(t.chats)),
		Duplicates:          t.duplicates,
		Rejected:            t.rejected,
		Malformed:           t.malformed,
		DownResponses:       t.down,
		GetUpdatesConflicts: t.conflicts,
		Commands:            t.commands,
	}
	for id, c := range t.chats {
		cp := *c
		st.Telegram.PerChat[id] = &cp
		st.Telegram.RetryAfterViolations += c.RetryAfterViolations
		st.Telegram.PacingViolations += c.PacingViolations
		st.Telegram.RateLimited += c.RateLimited
	}
	return st
}

// PublishedPosts lists every post published so far, by source then number.
func (s *Server) PublishedPosts() []Published {
	now := s.now()
	f := s.farm
	var out []Published
	for _, src := range f.sources {
		n := f.count(src, now)
		src.mu.Lock()
		for k := range n {
			p := Published{Source: src.n, GUID: GUID(src.n, k), Published: f.published(src, k)}
			if t, ok := src.firstServed[k]; ok {
				p.FirstServed = &t
			}
			out = append(out, p)
		}
		src.mu.Unlock()
	}
	return out
}

// Messages returns every message the Bot API stand-in accepted, in order.
func (s *Server) Messages() []Delivered {
	s.tg.mu.Lock()
	defer s.tg.mu.Unlock()
	return slices.Clone(s.tg.messages)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (s *Server) serveStats(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.Stats()) }

func (s *Server) servePublished(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.PublishedPosts())
}

func (s *Server) serveMessages(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.Messages()) }
