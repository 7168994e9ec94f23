package translate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/model"
	"golang.org/x/net/html"
)

// ErrBudget is returned when the daily character limit is reached; the
// result then carries the title-only translation.
var ErrBudget = errors.New("translate: daily character limit reached")

// Retry policy inside one call: a few attempts, each delay taken from
// Retry-After when the provider gave one, else exponential, and never more
// than maxRetryDelay. A longer Retry-After goes back to the caller at once.
const (
	maxAttempts   = 3
	baseDelay     = 500 * time.Millisecond
	maxRetryDelay = 8 * time.Second
	// perTextOverhead approximates the request bytes a text costs beyond
	// its own (JSON quotes, comma, escaping).
	perTextOverhead = 8
	// tmKeyVersion changes when the key or the meaning of stored values changes.
	tmKeyVersion = "tm1"

	// Reservations of segments shared by several instances (see
	// translateShared): how long a reservation holds unless renewed by a
	// store of the segment, how often a waiting call reads the memory
	// again, and every how many reads it also tries to take over the
	// reservation (released by a failed holder, or expired).
	defaultReserveLease = 2 * time.Minute
	reservePoll         = 200 * time.Millisecond
	reserveEvery        = 5
	// releaseTimeout bounds the release of reservations at the end of a
	// call, which runs even when the call's context is done.
	releaseTimeout = 5 * time.Second
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	SourceLang, TargetLang string    // default "zh", "en"
	Glossary               *Glossary // nil: no glossary
	DailyCharLimit         int64     // characters sent per UTC day; 0 = no limit
	// MaxCharsPerPost caps the characters of one post that are translated:
	// the title, the summary and the body's leading blocks up to the cap;
	// the English body then ends with a "partially translated" notice.
	// 0 = no cap.
	MaxCharsPerPost int
	// SharedBudget names other providers whose usage counts against
	// DailyCharLimit too (a summarizer of its own, see summarize), so
	// the limit is one budget for everything sent.
	SharedBudget []string
	Now          func() time.Time
	Sleep        func(ctx context.Context, d time.Duration) error // nil = real sleep
	// Owner names this engine in translation-memory reservations (each
	// call adds its own suffix); "" = a random id.
	Owner string
	// Human is the memory of translations made by people; nil: none. A
	// block found there is taken as it is, whatever the provider.
	Human HumanMemory
	// StoredGlossary holds glossary entries added from the admin pages,
	// merged with Glossary (whose entries win) at every call; nil: none.
	StoredGlossary GlossaryStore
	// ReserveLease is how long a reservation of a segment holds when its
	// holder dies before storing it; 0 = 2 minutes. A call waits for a
	// segment another instance holds at most twice this long.
	ReserveLease time.Duration
}

// Engine translates items with one provider: segmentation, glossary,
// translation memory, batching, retries, quality checks and budget. It is
// safe for concurrent use.
type Engine struct {
	cfg      EngineConfig
	tr       Translator
	mem      Memory
	log      *slog.Logger
	metrics  *Metrics
	name     string
	limits   Limits
	resetLoc *time.Location // the provider's quota day ends at midnight here
	calls    atomic.Uint64  // numbers the calls: reservation owners

	glossMu     sync.Mutex
	glossStored map[string]string // stored entries glossMerged was built from
	glossMerged *Glossary
}

// SegmentPair is one translated segment of an item.
type SegmentPair struct {
	Field      string // "title", "summary" or "content"
	Original   string // FormatText: plain text; content blocks with inline tags: inner HTML
	English    string
	FromMemory bool
	Human      bool // taken from the human translations (a correction)
}

// Result is the translation of one item and what it cost.
type Result struct {
	Translation model.Translation
	Segments    []SegmentPair
	CharsSent   int64 // code points sent to the provider (answered requests)
	Requests    int   // requests sent, failed attempts included
	MemoryHits  int   // distinct segments served from the translation memory
	HumanHits   int   // title, summary and blocks taken from the human translations
}

// NewEngine builds an engine. logger and m may be nil.
func NewEngine(cfg EngineConfig, tr Translator, mem Memory, logger *slog.Logger, m *Metrics) (*Engine, error) {
	if tr == nil {
		return nil, errors.New("translate: engine: no translator")
	}
	if mem == nil {
		return nil, errors.New("translate: engine: no memory")
	}
	if cfg.MaxCharsPerPost < 0 {
		return nil, fmt.Errorf("translate: engine: max characters per post %d is negative", cfg.MaxCharsPerPost)
	}
	if cfg.DailyCharLimit < 0 {
		return nil, fmt.Errorf("translate: engine: daily character limit %d is negative", cfg.DailyCharLimit)
	}
	if cfg.ReserveLease < 0 {
		return nil, fmt.Errorf("translate: engine: reservation lease %s is negative", cfg.ReserveLease)
	}
	if cfg.ReserveLease == 0 {
		cfg.ReserveLease = defaultReserveLease
	}
	if cfg.Owner == "" {
		cfg.Owner = rand.Text()[:12]
	}
	if cfg.SourceLang == "" {
		cfg.SourceLang = "zh"
	}
	if cfg.TargetLang == "" {
		cfg.TargetLang = "en"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := tr.Name()
	if name == "" {
		return nil, errors.New("translate: engine: translator has no name")
	}
	e := &Engine{cfg: cfg, tr: tr, mem: mem, log: logger.With("provider", name), metrics: m,
		name: name, limits: tr.Limits(), resetLoc: time.UTC}
	if strings.HasPrefix(name, "google") {
		// Google's daily quotas reset at midnight Pacific time.
		loc, err := time.LoadLocation("America/Los_Angeles")
		if err != nil {
			loc = time.FixedZone("PST", -8*3600)
		}
		e.resetLoc = loc
	}
	return e, nil
}

// Name returns the provider's name (the translation's TranslatedBy).
func (e *Engine) Name() string { return e.name }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unit is one text sent to the provider (a segment, or a piece of a long
// one), unique by key within an item.
type unit struct {
	text     string // original: plain text or inner HTML
	format   Format
	plain    string // text content of the original
	send     string // glossary targets in place of the terms
	terms    []termUse
	key      string
	title    bool // belongs to the title (sent even when the budget is used up)
	english  string
	done     bool
	memory   bool
	stale    bool // the memory's answer failed today's checks: sent without reservation
	stored   bool // translated by this call and stored in the memory
	failed   *CheckError
	sendRune int64
}

// slot is a field or content block made of units.
type slot struct {
	field    string
	original string
	units    []int // indices into job.units; empty: passes through (or human)
	format   Format
	human    string // a person's translation of the slot ("" = none)
	isHuman  bool
}

type job struct {
	units   []*unit
	byKey   map[string]int
	title   slot
	summary slot
	// summaryFromBody: the summary is the start of the body (the normaliser
	// derives it so when the source gives a body): it is not sent, its
	// English is made of the English of the body it covers (sumCover).
	summaryFromBody bool
	sumCover        summaryCover
	blocks          []slot
	doc             *Document
	left            int       // characters of the body beyond MaxCharsPerPost, not translated
	g               *Glossary // the call's glossary
	// humanHits counts the slots taken from the human memory.
	humanHits int
}

// TranslateItem translates an item's title, summary and HTML body. On
// ErrBudget the result holds the title-only translation; on any other error
// the result is nil: nothing half-translated is returned as complete.
// Segments translated before a failure are kept in the memory, so a later
// attempt does not pay for them again.
func (e *Engine) TranslateItem(ctx context.Context, it model.Item) (*Result, error) {
	if err := e.checkPaused(ctx); err != nil {
		return nil, err
	}
	j, err := e.plan(ctx, it)
	if err != nil {
		return nil, err
	}
	res := &Result{HumanHits: j.humanHits}
	if err := e.lookup(ctx, j, res); err != nil {
		return nil, err
	}
	var titleMisses, misses []int
	var need int64
	for i, u := range j.units {
		if u.done {
			continue
		}
		misses = append(misses, i)
		need += u.sendRune
		if u.title {
			titleMisses = append(titleMisses, i)
		}
	}
	if e.cfg.DailyCharLimit > 0 && need > 0 {
		day := e.cfg.Now().UTC().Format(time.DateOnly)
		usage, err := DayUsage(ctx, e.mem, day, append([]string{e.name}, e.cfg.SharedBudget...))
		if err != nil {
			return nil, err
		}
		if usage.Chars+need > e.cfg.DailyCharLimit {
			if err := e.translateShared(ctx, j, titleMisses, res); err != nil {
				return nil, err
			}
			e.metrics.failure(e.name, "budget")
			res.Translation = model.Translation{TitleEN: e.slotEnglish(j, j.title), TranslatedBy: e.name, TitleOnly: true}
			res.Segments = e.pairs(j, []slot{j.title})
			e.log.Info("daily character limit reached: title only", "item_id", it.ID,
				"used_today", usage.Chars, "limit", e.cfg.DailyCharLimit, "body_needs", need)
			return res, fmt.Errorf("%w (%d of %d characters used today; the body needs %d more)",
				ErrBudget, usage.Chars, e.cfg.DailyCharLimit, need)
		}
	}
	if err := e.translateShared(ctx, j, misses, res); err != nil {
		return nil, err
	}
	blockEN := make([]string, len(j.blocks))
	for i, b := range j.blocks {
		blockEN[i] = e.slotEnglish(j, b)
	}
	content := it.ContentHTML
	if j.doc != nil {
		if content, err = j.doc.Assemble(blockEN); err != nil {
			return nil, err
		}
	}
	if j.left > 0 {
		if j.doc == nil {
			content = ""
		}
		content += partialNotice(j.left)
		e.log.Info("post longer than translation.max_chars_per_post: partially translated", "item_id", it.ID,
			"max_chars_per_post", e.cfg.MaxCharsPerPost, "chars_left", j.left)
	}
	summaryEN := e.slotEnglish(j, j.summary)
	if j.summaryFromBody {
		summaryEN = e.summaryEnglish(j)
	}
	res.Translation = model.Translation{
		TitleEN:       e.slotEnglish(j, j.title),
		SummaryEN:     summaryEN,
		ContentHTMLEN: content,
		TranslatedBy:  e.name,
	}
	res.Segments = e.pairs(j, append([]slot{j.title, j.summary}, j.blocks...))
	e.log.Debug("item translated", "item_id", it.ID, "segments", len(res.Segments),
		"chars_sent", res.CharsSent, "requests", res.Requests, "memory_hits", res.MemoryHits)
	return res, nil
}

// UsageReader reads a provider's usage of one day (*store.Store implements it).
type UsageReader interface {
	GetUsage(ctx context.Context, day, provider string) (model.Usage, error)
}

// DayUsage is the usage of day summed over providers, each counted once.
func DayUsage(ctx context.Context, r UsageReader, day string, providers []string) (model.Usage, error) {
	total := model.Usage{Day: day}
	seen := map[string]bool{}
	for _, p := range providers {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		u, err := r.GetUsage(ctx, day, p)
		if err != nil {
			return model.Usage{}, fmt.Errorf("translate: usage: %w", err)
		}
		total.Chars += u.Chars
		total.Requests += u.Requests
	}
	total.Provider = strings.Join(slices.Sorted(maps.Keys(seen)), "+")
	return total, nil
}

// checkPaused refuses to work while the provider is paused for quota.
func (e *Engine) checkPaused(ctx context.Context) error {
	st, err := e.mem.GetProviderState(ctx, e.name)
	if err != nil {
		return fmt.Errorf("translate: provider state: %w", err)
	}
	now := e.cfg.Now()
	if now.Before(st.PausedUntil) {
		e.metrics.failure(e.name, "paused")
		return &Error{Provider: e.name, Kind: KindQuota, RetryAfter: st.PausedUntil.Sub(now),
			Err: fmt.Errorf("provider paused until %s: %s", st.PausedUntil.UTC().Format(time.RFC3339), st.Reason)}
	}
	return nil
}

// plan segments the item and builds its units, with the call's glossary.
// A slot (title, summary, content block) a person translated is taken from
// the human memory and sends nothing. A body longer than MaxCharsPerPost is
// cut to its leading blocks (j.left counts the rest).
func (e *Engine) plan(ctx context.Context, it model.Item) (*job, error) {
	g, err := e.glossary(ctx)
	if err != nil {
		return nil, err
	}
	j := &job{byKey: map[string]int{}, g: g}
	body := it.ContentHTML
	if max := e.cfg.MaxCharsPerPost; max > 0 && strings.TrimSpace(body) != "" {
		budget := max - utf8.RuneCountInString(it.Title) - utf8.RuneCountInString(it.Summary)
		body, j.left = leadingBlocks(body, budget)
	}
	var blocks []Block
	if strings.TrimSpace(body) != "" {
		doc, err := Segment(body)
		if err != nil {
			return nil, err
		}
		j.doc = doc
		blocks = doc.Blocks()
	}
	want := map[string]struct{}{}
	if e.cfg.Human != nil {
		for _, t := range []string{it.Title, it.Summary} {
			if containsHan(t) {
				want[e.humanKey(FormatText, t)] = struct{}{}
			}
		}
		for _, b := range blocks {
			want[e.humanKey(b.Format, b.Text)] = struct{}{}
		}
	}
	human, err := e.humanLookup(ctx, want)
	if err != nil {
		return nil, err
	}
	humanSlot := func(s *slot, f Format) bool {
		if len(human) == 0 || !containsHan(s.original) {
			return false
		}
		en, ok := human[e.humanKey(f, s.original)]
		if !ok {
			return false
		}
		s.human, s.isHuman, s.units = en, true, nil
		j.humanHits++
		return true
	}
	j.title = slot{field: "title", original: it.Title, format: FormatText}
	if !humanSlot(&j.title, FormatText) {
		j.title = e.textSlot(j, "title", it.Title, true)
	}
	// A summary that is the start of the body costs nothing of its own: its
	// English is the English of the blocks it covers. A block it ends in
	// (after a sentence) is sent as two texts, its covered sentences and the
	// rest, so that the summary's English ends where the summary does. A
	// summary a person translated is taken as it is.
	j.summary = slot{field: "summary", original: it.Summary, format: FormatText}
	if !humanSlot(&j.summary, FormatText) {
		if c, ok := coverSummary(it.Summary, blocks); ok {
			j.summaryFromBody, j.sumCover = true, c
		} else {
			j.summary = e.textSlot(j, "summary", it.Summary, false)
		}
	}
	for i, b := range blocks {
		s := slot{field: "content", original: b.Text, format: b.Format}
		switch {
		case humanSlot(&s, b.Format):
			if j.summaryFromBody && i == j.sumCover.full && j.sumCover.splitAt > 0 {
				// The block the summary ends in is a person's: the summary
				// cannot be cut from it; it is translated on its own.
				j.summaryFromBody = false
				j.summary = e.textSlot(j, "summary", it.Summary, false)
			}
		case b.Format == FormatHTML:
			s.units = []int{e.addUnit(j, b.Text, FormatHTML, false)}
		case j.summaryFromBody && i == j.sumCover.full && j.sumCover.splitAt > 0:
			head := e.textSlot(j, "content", b.Text[:j.sumCover.splitAt], false)
			tail := e.textSlot(j, "content", b.Text[j.sumCover.splitAt:], false)
			s.units = append(head.units, tail.units...)
			j.sumCover.headUnits = head.units
		default:
			s = e.textSlot(j, "content", b.Text, false)
		}
		j.blocks = append(j.blocks, s)
	}
	return j, nil
}

// summaryEnglish is the English of what the summary covers: the English of
// its whole blocks, then of the covered sentences of the block it ends in
// (or that whole block, cut to SummaryRunes, when it ends inside a sentence
// or inside inline markup).
func (e *Engine) summaryEnglish(j *job) string {
	c := j.sumCover
	var parts []string
	add := func(s slot) {
		en := e.slotEnglish(j, s)
		if s.format == FormatHTML {
			en = model.PlainText(en, 0)
		}
		if en = model.OneLine(en); en != "" {
			parts = append(parts, en)
		}
	}
	for i := 0; i < c.full && i < len(j.blocks); i++ {
		add(j.blocks[i])
	}
	switch {
	case len(c.headUnits) > 0:
		add(slot{units: c.headUnits, format: FormatText})
	case c.partial && c.full < len(j.blocks):
		add(j.blocks[c.full])
		return model.PlainText(strings.Join(parts, " "), model.SummaryRunes)
	}
	return strings.Join(parts, " ")
}

func (e *Engine) textSlot(j *job, field, text string, title bool) slot {
	s := slot{field: field, original: text, format: FormatText}
	t := strings.TrimSpace(text)
	if !containsHan(t) {
		return s
	}
	for _, piece := range splitLong(t, e.maxPieceRunes()) {
		s.units = append(s.units, e.addUnit(j, piece, FormatText, title))
	}
	return s
}

// maxPieceRunes is the longest plain text sent as one text (0: no limit).
func (e *Engine) maxPieceRunes() int {
	n := 0
	if e.limits.MaxChars > 0 {
		n = e.limits.MaxChars * 9 / 10
	}
	if e.limits.MaxBytes > 0 {
		// Chinese is 3 bytes a character in UTF-8; keep room for glossary
		// targets and the request's own overhead.
		b := (e.limits.MaxBytes - 512) / 4
		if n == 0 || b < n {
			n = b
		}
	}
	if n != 0 && n < 50 {
		n = 50
	}
	return n
}

func (e *Engine) addUnit(j *job, text string, f Format, title bool) int {
	uses := map[string]string{}
	u := &unit{text: text, format: f}
	if f == FormatHTML {
		u.plain = htmlText(text)
		u.send = applyGlossaryHTML(j.g, text, uses)
	} else {
		u.plain = text
		u.send = j.g.apply(text, uses)
	}
	for _, src := range slices.Sorted(maps.Keys(uses)) {
		u.terms = append(u.terms, termUse{Source: src, Target: uses[src]})
	}
	u.key = e.key(u)
	if i, ok := j.byKey[u.key]; ok {
		j.units[i].title = j.units[i].title || title
		return i
	}
	u.title = title
	u.sendRune = int64(utf8.RuneCountInString(u.send))
	j.units = append(j.units, u)
	j.byKey[u.key] = len(j.units) - 1
	return len(j.units) - 1
}

// applyGlossaryHTML applies the glossary to the text of an HTML fragment,
// leaving tags and attributes alone.
func applyGlossaryHTML(g *Glossary, s string, uses map[string]string) string {
	if g.Len() == 0 {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		raw := string(z.Raw())
		if tt == html.TextToken {
			raw = g.apply(raw, uses)
		}
		b.WriteString(raw)
	}
}

// key is the translation-memory key of a unit: provider (with model),
// languages, format, text and the glossary terms (with targets) it holds.
func (e *Engine) key(u *unit) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00", tmKeyVersion, e.name, e.cfg.SourceLang, e.cfg.TargetLang, u.format, u.text)
	for _, t := range u.terms {
		fmt.Fprintf(h, "%s\x1f%s\x1e", t.Source, t.Target)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// lookup fills units from the translation memory. A remembered answer that
// fails today's checks is ignored and sent again.
func (e *Engine) lookup(ctx context.Context, j *job, res *Result) error {
	if len(j.units) == 0 {
		return nil
	}
	keys := make([]string, len(j.units))
	for i, u := range j.units {
		keys[i] = u.key
	}
	hits, err := e.mem.TMGet(ctx, keys)
	if err != nil {
		return fmt.Errorf("translate: memory: %w", err)
	}
	for _, u := range j.units {
		v, ok := hits[u.key]
		if !ok {
			continue
		}
		en, cerr := e.accept(u, v, u.format)
		if cerr != nil {
			e.log.Debug("remembered translation fails the checks; sending again", "check", cerr.Check, "reason", cerr.Reason)
			u.stale = true
			continue
		}
		u.english, u.done, u.memory = en, true, true
		res.MemoryHits++
	}
	e.metrics.memoryHits(e.name, res.MemoryHits)
	return nil
}

// accept turns a provider answer into the unit's English and checks it.
// sentAs is the format of the request the answer came from.
func (e *Engine) accept(u *unit, answer string, sentAs Format) (string, *CheckError) {
	en := strings.TrimSpace(answer)
	plain := en
	fail := func(check, reason string) *CheckError {
		return &CheckError{Check: check, Segment: u.text, English: en, Reason: reason}
	}
	switch {
	case u.format == FormatHTML:
		restored, err := restoreTags(u.send, en)
		if err != nil {
			return "", fail(CheckMarkup, "markup changed: "+err.Error())
		}
		en = restored
		plain = htmlText(en)
	case sentAs == FormatHTML:
		t, err := textAnswer(en)
		if err != nil {
			return "", fail(CheckMarkup, err.Error())
		}
		en, plain = strings.TrimSpace(t), strings.TrimSpace(t)
	}
	if check, reason := checkSegment(u.plain, plain, u.terms); check != "" {
		return "", fail(check, reason)
	}
	return en, nil
}

// translateShared translates the units idx (not done) once across every
// instance sharing the memory. It reserves the segments nobody else is
// translating (one store write) and sends those; for a segment another
// instance holds it reads the memory every reservePoll until that
// instance's translation appears (used as a memory hit), taking the
// segment over when its holder releases it (a failed call) or its
// reservation expires (a dead instance). Own segments go first, so two
// calls waiting for each other's segments both finish. A segment whose
// remembered translation failed today's checks is sent without
// reservation, as is everything when the memory cannot reserve.
// Reservations not ended by a store are released on return.
func (e *Engine) translateShared(ctx context.Context, j *job, idx []int, res *Result) error {
	var direct, waiting []int
	for _, i := range idx {
		if j.units[i].stale {
			direct = append(direct, i)
		} else {
			waiting = append(waiting, i)
		}
	}
	if len(waiting) == 0 {
		return e.translateUnits(ctx, j, direct, res)
	}
	owner := e.cfg.Owner + "-" + strconv.FormatUint(e.calls.Add(1), 36)
	var held []int
	defer func() { e.release(ctx, j, held, owner) }()
	deadline := e.cfg.Now().Add(2 * e.cfg.ReserveLease)
	for poll := 0; ; poll++ {
		if poll > 0 {
			if err := e.cfg.Sleep(ctx, reservePoll); err != nil {
				return fmt.Errorf("translate: waiting for a segment another instance translates: %w", err)
			}
		}
		var mine []int
		switch {
		case !e.cfg.Now().Before(deadline):
			e.log.Info("segments still reserved by another instance: sending them", "segments", len(waiting))
			mine, waiting = waiting, nil
		case poll%reserveEvery == 0:
			var err error
			if mine, waiting, err = e.reserve(ctx, j, waiting, owner); err != nil {
				return err
			}
			held = append(held, mine...)
			if poll == 0 && len(waiting) > 0 {
				e.log.Debug("segments being translated by another instance: waiting for them", "segments", len(waiting))
			}
		}
		// Read the memory for the segments waited for and for those just
		// reserved: on PostgreSQL another instance's store that committed
		// during the reservation may not have been seen by it.
		if check := append(slices.Clone(waiting), mine...); poll > 0 || len(mine) > 0 {
			found, resend, err := e.recall(ctx, j, check, res)
			if err != nil {
				return err
			}
			direct = append(direct, resend...)
			mine = slices.DeleteFunc(mine, func(i int) bool { return found[i] || slices.Contains(resend, i) })
			waiting = slices.DeleteFunc(waiting, func(i int) bool { return found[i] || slices.Contains(resend, i) })
		}
		if send := append(direct, mine...); len(send) > 0 {
			slices.Sort(send) // document order, as batched without reservations
			if err := e.translateUnits(ctx, j, send, res); err != nil {
				return err
			}
			direct = nil
		}
		if len(waiting) == 0 {
			return nil
		}
	}
}

// reserve reserves the units' keys for owner and splits the units into
// those owner holds and the others. When the memory cannot reserve, the
// call goes on without coordination: every unit is the caller's.
func (e *Engine) reserve(ctx context.Context, j *job, idx []int, owner string) (mine, others []int, err error) {
	keys := make([]string, len(idx))
	for k, i := range idx {
		keys[k] = j.units[i].key
	}
	owned, err := e.mem.TMReserve(ctx, keys, owner, e.cfg.Now(), e.cfg.ReserveLease)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, fmt.Errorf("translate: memory: %w", cerr)
		}
		e.log.Warn("reserving segments failed: translating without coordination", slog.Any("error", err))
		return nil, idx, nil // not held: nothing to release
	}
	got := make(map[string]bool, len(owned))
	for _, k := range owned {
		got[k] = true
	}
	for _, i := range idx {
		if got[j.units[i].key] {
			mine = append(mine, i)
		} else {
			others = append(others, i)
		}
	}
	return mine, others, nil
}

// recall reads the memory for units: those found and accepted are done
// (memory hits); those found but failing the checks are to be sent again.
func (e *Engine) recall(ctx context.Context, j *job, idx []int, res *Result) (found map[int]bool, resend []int, err error) {
	keys := make([]string, len(idx))
	for k, i := range idx {
		keys[k] = j.units[i].key
	}
	hits, err := e.mem.TMGet(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("translate: memory: %w", err)
	}
	found = map[int]bool{}
	n := 0
	for _, i := range idx {
		u := j.units[i]
		v, ok := hits[u.key]
		if !ok {
			continue
		}
		en, cerr := e.accept(u, v, u.format)
		if cerr != nil {
			e.log.Debug("translation from another instance fails the checks; sending again", "check", cerr.Check, "reason", cerr.Reason)
			u.stale = true
			resend = append(resend, i)
			continue
		}
		u.english, u.done, u.memory = en, true, true
		found[i] = true
		n++
	}
	if n > 0 {
		res.MemoryHits += n
		e.metrics.memoryHits(e.name, n)
	}
	return found, resend, nil
}

// release ends the reservations of the held units this call did not store
// (failed, abandoned, or found in the memory after all). It runs even when
// ctx is done, so other instances need not wait for the lease to run out.
func (e *Engine) release(ctx context.Context, j *job, held []int, owner string) {
	var keys []string
	for _, i := range held {
		if !j.units[i].stored {
			keys = append(keys, j.units[i].key)
		}
	}
	if len(keys) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := e.mem.TMRelease(rctx, keys, owner); err != nil {
		e.log.Warn("releasing segment reservations failed; they expire by themselves", "segments", len(keys), slog.Any("error", err))
	}
}

// translateUnits sends the units in batches, checks the answers, stores
// the good ones in the memory and sends the failing ones once more.
func (e *Engine) translateUnits(ctx context.Context, j *job, idx []int, res *Result) error {
	pending := idx
	for round := range 2 {
		var failed []int
		for _, batch := range e.batches(j, pending) {
			format := FormatText
			for _, i := range batch {
				if j.units[i].format == FormatHTML {
					format = FormatHTML
				}
			}
			req := Request{Source: e.cfg.SourceLang, Target: e.cfg.TargetLang, Format: format, Texts: make([]string, len(batch))}
			for k, i := range batch {
				u := j.units[i]
				req.Texts[k] = u.send
				if format == FormatHTML && u.format == FormatText {
					req.Texts[k] = escapeText(u.send)
				}
				for _, t := range u.terms {
					if req.Glossary == nil {
						req.Glossary = map[string]string{}
					}
					req.Glossary[t.Source] = t.Target
				}
			}
			answers, err := e.call(ctx, req, res)
			if err != nil {
				return err
			}
			var good []model.TMEntry
			for k, i := range batch {
				u := j.units[i]
				en, cerr := e.accept(u, answers[k], format)
				if cerr != nil {
					u.failed = cerr
					failed = append(failed, i)
					continue
				}
				u.english, u.done, u.failed = en, true, nil
				good = append(good, model.TMEntry{Key: u.key, Provider: e.name, Source: u.text, Target: en})
			}
			if len(good) > 0 {
				if err := e.mem.TMPut(ctx, good); err != nil {
					return fmt.Errorf("translate: memory: %w", err)
				}
				for _, i := range batch {
					j.units[i].stored = j.units[i].done
				}
			}
		}
		if len(failed) == 0 {
			return nil
		}
		if round == 0 {
			for _, i := range failed {
				f := j.units[i].failed
				e.log.Debug("segment failed a quality check; sending it again", "check", f.Check, "reason", f.Reason)
			}
		}
		pending = failed
	}
	e.metrics.failure(e.name, "check")
	return j.units[pending[0]].failed
}

// batches groups units into requests within the provider's limits, in
// order. A unit larger than a limit goes alone.
func (e *Engine) batches(j *job, idx []int) [][]int {
	var out [][]int
	var cur []int
	var chars, size int
	lim := e.limits
	for _, i := range idx {
		u := j.units[i]
		c := int(u.sendRune)
		b := len(u.send) + perTextOverhead
		for _, t := range u.terms {
			b += len(t.Source) + len(t.Target) + perTextOverhead
		}
		if len(cur) > 0 && ((lim.MaxTexts > 0 && len(cur)+1 > lim.MaxTexts) ||
			(lim.MaxChars > 0 && chars+c > lim.MaxChars) ||
			(lim.MaxBytes > 0 && size+b > lim.MaxBytes)) {
			out = append(out, cur)
			cur, chars, size = nil, 0, 0
		}
		cur = append(cur, i)
		chars += c
		size += b
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// call sends one request, retrying temporary failures a few times.
func (e *Engine) call(ctx context.Context, req Request, res *Result) ([]string, error) {
	var chars int64
	for _, t := range req.Texts {
		chars += int64(utf8.RuneCountInString(t))
	}
	var lastErr error
	for attempt := range maxAttempts {
		if attempt > 0 {
			d := baseDelay << (attempt - 1)
			if ra := retryAfter(lastErr); ra > 0 {
				d = ra
			}
			if err := e.cfg.Sleep(ctx, min(d, maxRetryDelay)); err != nil {
				return nil, fmt.Errorf("translate: waiting to retry: %w", err)
			}
		}
		e.metrics.request(e.name)
		res.Requests++
		out, err := e.tr.Translate(ctx, req)
		if err == nil && len(out) != len(req.Texts) {
			err = &Error{Provider: e.name, Kind: KindBadAnswer,
				Err: fmt.Errorf("%d texts answered for %d sent", len(out), len(req.Texts))}
		}
		if err == nil {
			res.CharsSent += chars
			e.metrics.sent(e.name, chars)
			e.addUsage(ctx, chars)
			return out, nil
		}
		e.addUsage(ctx, 0)
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("translate: %s: %w", e.name, cerr)
		}
		kind := KindOf(err)
		e.metrics.failure(e.name, failureKind(kind))
		switch kind {
		case KindQuota:
			e.pause(ctx, err)
			return nil, err
		case KindRetryable, KindBadAnswer:
			lastErr = err
			if retryAfter(err) > maxRetryDelay {
				// The provider asks for a longer wait than a call should
				// take: the caller schedules the next attempt.
				return nil, err
			}
			e.log.Debug("provider failed; retrying", "attempt", attempt+1, slog.Any("error", err))
		case KindPermanent:
			return nil, err
		default:
			// Providers are meant to return *Error; anything else is
			// treated as temporary, for the caller to try again later.
			return nil, &Error{Provider: e.name, Kind: KindRetryable, Err: err}
		}
	}
	return nil, lastErr
}

func retryAfter(err error) time.Duration {
	if pe, ok := errors.AsType[*Error](err); ok {
		return pe.RetryAfter
	}
	return 0
}

// addUsage records one request; a store failure only costs accuracy of
// the budget, so it is logged, not returned.
func (e *Engine) addUsage(ctx context.Context, chars int64) {
	day := e.cfg.Now().UTC().Format(time.DateOnly)
	if err := e.mem.AddUsage(ctx, day, e.name, chars, 1); err != nil && ctx.Err() == nil {
		e.log.Warn("recording translation usage failed", slog.Any("error", err))
	}
}

// pause records that the provider's quota is used up until its next day.
func (e *Engine) pause(ctx context.Context, cause error) {
	now := e.cfg.Now()
	until := nextMidnight(now, e.resetLoc)
	st := model.ProviderState{Provider: e.name, PausedUntil: until.UTC(),
		Reason: "quota exhausted: " + cause.Error()}
	if err := e.mem.SetProviderState(ctx, st); err != nil {
		e.log.Error("recording provider pause failed", slog.Any("error", err))
	}
	e.log.Warn("translation provider paused: quota exhausted", "until", until.UTC().Format(time.RFC3339), slog.Any("error", cause))
}

// nextMidnight returns the next 00:00 in loc after t.
func nextMidnight(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

// slotEnglish joins a slot's units; a slot without units passes through.
func (e *Engine) slotEnglish(j *job, s slot) string {
	if s.isHuman {
		return s.human
	}
	if len(s.units) == 0 {
		return s.original
	}
	parts := make([]string, len(s.units))
	for i, ui := range s.units {
		parts[i] = j.units[ui].english
	}
	return strings.Join(parts, " ")
}

func (e *Engine) pairs(j *job, slots []slot) []SegmentPair {
	var out []SegmentPair
	for _, s := range slots {
		if s.isHuman {
			out = append(out, SegmentPair{Field: s.field, Original: strings.TrimSpace(s.original),
				English: s.human, FromMemory: true, Human: true})
			continue
		}
		if len(s.units) == 0 {
			continue
		}
		mem := true
		for _, ui := range s.units {
			mem = mem && j.units[ui].memory
		}
		out = append(out, SegmentPair{Field: s.field, Original: strings.TrimSpace(s.original),
			English: e.slotEnglish(j, s), FromMemory: mem})
	}
	return out
}

// splitLong splits a plain text longer than limit characters after sentence
// ends (or, for a sentence that is itself too long, anywhere).
func splitLong(s string, limit int) []string {
	if limit <= 0 || utf8.RuneCountInString(s) <= limit {
		return []string{s}
	}
	var sentences []string
	start := 0
	for i, r := range s {
		switch r {
		case '。', '！', '？', '；', '!', '?', ';', '\n':
			end := i + utf8.RuneLen(r)
			sentences = append(sentences, s[start:end])
			start = end
		}
	}
	if start < len(s) {
		sentences = append(sentences, s[start:])
	}
	var out []string
	var cur strings.Builder
	curN := 0
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
		curN = 0
	}
	for _, sen := range sentences {
		n := utf8.RuneCountInString(sen)
		if curN > 0 && curN+n > limit {
			flush()
		}
		for n > limit { // one sentence over the limit: cut it
			rs := []rune(sen)
			cur.WriteString(string(rs[:limit]))
			flush()
			sen = string(rs[limit:])
			n -= limit
		}
		cur.WriteString(sen)
		curN += n
	}
	flush()
	return out
}
