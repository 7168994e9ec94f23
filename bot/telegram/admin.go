package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/model"
)

// metaUpdateOffset is the store meta key holding the last handled update id.
const metaUpdateOffset = "telegram.update_offset"

// pollTimeout bounds one /poll command.
const pollTimeout = 5 * time.Minute

// leaderLease names the store lease held by the one instance that
// long-polls Telegram (Telegram answers 409 Conflict to a second poller).
const leaderLease = "telegram.admin_poller"

// AdminStore is what the admin commands need from the store, as small
// views (*store.Store implements them all).
type AdminStore interface {
	LeaderLease
	Offsets
	Reports
	bot.ChannelStates
	FailedRetrier
}

// LeaderLease keeps the long polling to one instance among those sharing
// the database.
type LeaderLease interface {
	ClaimLeader(ctx context.Context, name, owner string, now time.Time, lease time.Duration) (bool, error)
	ReleaseLeader(ctx context.Context, name, owner string) error
}

// Offsets keeps the last handled update id across restarts and instances.
type Offsets interface {
	GetMeta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Reports are what /status and /sources show.
type Reports interface {
	ListSources(ctx context.Context, now time.Time) ([]model.Source, error)
	DeliveryBacklogs(ctx context.Context) ([]model.DeliveryBacklog, error)
	ListChannelStates(ctx context.Context) ([]model.ChannelState, error)
}

// FailedRetrier re-queues failed deliveries (/retry).
type FailedRetrier interface {
	RetryFailedDeliveries(ctx context.Context, channel string) (int, error)
}

// AdminOptions builds an Admin. Client and Store are required; zero values
// of the other fields take the defaults.
type AdminOptions struct {
	Client *Client // its Admins are the only users answered
	Store  AdminStore
	// Channels are the configured channels (/status, /pause, /resume, /retry).
	Channels []bot.Channel
	// Sources are the configured source ids (/poll).
	Sources []string
	// Poll runs one poll of a source for /poll and returns a one-line
	// summary (nil: /poll is unavailable).
	Poll   func(ctx context.Context, sourceID string) (string, error)
	Logger *slog.Logger // nil: discard

	// Owner names this instance in the leader lease (e.g. hostname+pid);
	// default: a random name, unique to this Admin.
	Owner string
	// Lease is how long the leader lease lasts; it is renewed every Lease/3,
	// and another instance takes over within Lease of this one dying.
	// Default 1 min.
	Lease time.Duration
	// ConflictBackoff is how long to stay off after Telegram answers 409
	// Conflict (someone else polls the token); default 30 s.
	ConflictBackoff time.Duration
	// Reviews answers review buttons and /queue (nil: no channel has
	// review: true).
	Reviews ReviewStore
	// Search finds ready posts for /search (nil: /search is unavailable):
	// at most limit, best first.
	Search func(ctx context.Context, words string, limit int) ([]model.Item, error)
	// BaseURL makes /search's links ({BaseURL}/posts/{id}).
	BaseURL string
}

func (o AdminOptions) withDefaults() AdminOptions {
	if o.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		o.Owner = "admin-" + hex.EncodeToString(b)
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.ConflictBackoff <= 0 {
		o.ConflictBackoff = 30 * time.Second
	}
	return o
}

// errConflict: Telegram said another process polls this token.
var errConflict = errors.New("telegram: 409 Conflict: another process polls this bot token")

// Admin answers the admin commands, by long polling, to the client's
// admins (telegram.admins); anyone else gets no answer at all.
type Admin struct {
	st         AdminStore
	api        *Client
	channels   []bot.Channel
	sourceList []string
	poll       func(ctx context.Context, sourceID string) (string, error)
	logger     *slog.Logger
	cmdRe      *regexp.Regexp
	opts       AdminOptions

	// owned by the polling worker (handlers run one at a time)
	offset int64
}

// NewAdmin builds the command handler. It does no I/O.
func NewAdmin(opts AdminOptions) (*Admin, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("telegram: admin without a client")
	case opts.Store == nil:
		return nil, errors.New("telegram: admin without a store")
	}
	opts = opts.withDefaults()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Admin{
		st:         opts.Store,
		api:        opts.Client,
		channels:   opts.Channels,
		sourceList: opts.Sources,
		poll:       opts.Poll,
		logger:     logger,
		cmdRe:      regexp.MustCompile(`^/([A-Za-z_]+)(?:@(\w+))?\b\s*(.*)$`),
		opts:       opts,
	}, nil
}

// commands are registered with setMyCommands.
func (a *Admin) commands() []models.BotCommand {
	cmds := adminCommands()
	if a.opts.Reviews != nil {
		cmds = append(cmds, models.BotCommand{Command: "queue", Description: "Posts waiting for review"})
	}
	if a.opts.Search != nil {
		cmds = append(cmds, models.BotCommand{Command: "search", Description: "Find posts: /search <words>"})
	}
	return cmds
}

func adminCommands() []models.BotCommand {
	return []models.BotCommand{
		{Command: "status", Description: "Channels and delivery backlog"},
		{Command: "sources", Description: "Sources: last poll, errors"},
		{Command: "poll", Description: "Poll a source now: /poll <source>"},
		{Command: "pause", Description: "Pause a channel: /pause <channel>"},
		{Command: "resume", Description: "Resume a channel: /resume <channel>"},
		{Command: "retry", Description: "Re-queue failed deliveries: /retry [channel]"},
	}
}

// Run long-polls for admin commands until ctx is cancelled; it returns nil
// then. Only one process may poll one token, so among the instances sharing
// the database only the holder of the leader lease polls; the others wait
// and take over within the lease time when it stops or dies. When Telegram
// answers 409 Conflict all the same (a process outside the database polls
// the token), Run stays off for ConflictBackoff before trying again.
func (a *Admin) Run(ctx context.Context) error {
	for {
		wait := a.opts.Lease / 3
		ok, err := a.st.ClaimLeader(ctx, leaderLease, a.opts.Owner, time.Now(), a.opts.Lease)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			a.logger.Warn("claim the admin poller lease", slog.Any("error", err))
		case ok:
			err := a.lead(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errConflict) {
				a.logger.Warn("telegram says another process polls this bot token; admin commands paused",
					slog.Duration("retry_in", a.opts.ConflictBackoff))
				wait = a.opts.ConflictBackoff
			} else if err != nil {
				return err
			}
		}
		if bot.Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// lead polls while this instance holds the leader lease: it renews the
// lease every Lease/3 and stops polling when a renewal fails, Telegram
// answers 409 Conflict (errConflict), or ctx ends (then it releases the
// lease so another instance takes over at once).
func (a *Admin) lead(ctx context.Context) error {
	// Another instance may have handled updates since this one last led.
	if v, err := a.st.GetMeta(ctx, metaUpdateOffset); err != nil {
		return fmt.Errorf("telegram: read update offset: %w", err)
	} else if v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("telegram: stored update offset %q: %w", v, err)
		}
		a.offset = max(a.offset, n)
	}
	a.logger.Info("polling telegram for admin commands", slog.String("owner", a.opts.Owner))
	defer func() {
		if err := a.st.ReleaseLeader(context.WithoutCancel(ctx), leaderLease, a.opts.Owner); err != nil {
			a.logger.Warn("release the admin poller lease", slog.Any("error", err))
		}
	}()
	if err := a.api.setCommands(ctx, a.commands()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		a.logger.Warn("register admin commands", slog.Any("error", err))
	}
	pollCtx, stop := context.WithCancel(ctx)
	defer stop()
	conflict := make(chan struct{}, 1)
	poller, err := a.newPoller(func(err error) {
		if errors.Is(err, tgbot.ErrorConflict) {
			select {
			case conflict <- struct{}{}:
			default:
			}
			stop()
			return
		}
		a.logger.Warn("telegram client error", slog.Any("error", a.api.redact(err)))
	})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { // renews the lease; stops polling when it is lost
		defer close(done)
		t := time.NewTicker(a.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-pollCtx.Done():
				return
			case <-t.C:
			}
			ok, err := a.st.ClaimLeader(pollCtx, leaderLease, a.opts.Owner, time.Now(), a.opts.Lease)
			if pollCtx.Err() != nil {
				return
			}
			if err != nil || !ok {
				a.logger.Warn("lost the admin poller lease; polling stops", slog.Any("error", err))
				stop()
				return
			}
		}
	}()
	poller.Start(pollCtx) // blocks; owns its goroutines and waits for them on cancel
	stop()
	<-done
	select {
	case <-conflict:
		return errConflict
	default:
		return nil
	}
}

// newPoller builds a go-telegram/bot client for long polling (its own HTTP
// client, whose timeout exceeds the poll timeout), handing every update
// after the offset to handle, one at a time; onError sees the client's
// errors (409 Conflict among them).
func (a *Admin) newPoller(onError func(error)) (*tgbot.Bot, error) {
	b := a.api
	opts := b.libOptions(b.opts.PollTimeout, b.opts.PollClient)
	opts = append(opts,
		tgbot.WithDefaultHandler(a.handle),
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithInitialOffset(a.offset),
		tgbot.WithAllowedUpdates(a.allowedUpdates()),
		tgbot.WithErrorsHandler(onError),
	)
	tg, err := tgbot.New(b.token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", b.redact(err))
	}
	return tg, nil
}

// allowedUpdates: messages (commands), and button presses when reviews are on.
func (a *Admin) allowedUpdates() tgbot.AllowedUpdates {
	if a.opts.Reviews != nil {
		return tgbot.AllowedUpdates{"message", "callback_query"}
	}
	return tgbot.AllowedUpdates{"message"}
}

func (a *Admin) handle(ctx context.Context, _ *tgbot.Bot, upd *models.Update) {
	if upd == nil || upd.ID <= a.offset {
		return // already handled before a restart
	}
	defer func() {
		a.offset = upd.ID
		if err := a.st.SetMeta(context.WithoutCancel(ctx), metaUpdateOffset, strconv.FormatInt(upd.ID, 10)); err != nil {
			a.logger.Warn("store update offset", slog.Any("error", err))
		}
	}()
	if upd.CallbackQuery != nil {
		a.handleCallback(ctx, upd.CallbackQuery)
		return
	}
	m := upd.Message
	if m == nil || m.From == nil {
		return
	}
	if !slices.Contains(a.api.admins, m.From.ID) {
		a.logger.Debug("ignored a message from a non-admin", slog.Int64("user_id", m.From.ID))
		return
	}
	sub := a.cmdRe.FindStringSubmatch(strings.TrimSpace(m.Text))
	if sub == nil {
		return
	}
	cmd, mention, arg := strings.ToLower(sub[1]), sub[2], strings.TrimSpace(sub[3])
	if me := a.api.Username(); mention != "" && me != "" && !strings.EqualFold(mention, me) {
		return // addressed to another bot in a group
	}
	reply := a.exec(ctx, cmd, arg)
	if reply == "" {
		return
	}
	if err := a.api.sendPlain(ctx, m.Chat.ID, reply); err != nil {
		a.logger.Warn("answer admin command", slog.String("command", cmd), slog.Any("error", err))
	}
}

// exec runs one command and returns the answer.
func (a *Admin) exec(ctx context.Context, cmd, arg string) string {
	var (
		out string
		err error
	)
	switch cmd {
	case "status":
		out, err = a.status(ctx)
	case "sources":
		out, err = a.sources(ctx)
	case "poll":
		out, err = a.pollSource(ctx, arg)
	case "pause":
		out, err = a.setPaused(ctx, arg, true)
	case "resume":
		out, err = a.setPaused(ctx, arg, false)
	case "retry":
		out, err = a.retry(ctx, arg)
	case "queue":
		out, err = a.queue(ctx)
	case "search":
		out, err = a.search(ctx, arg)
	case "start", "help":
		var b strings.Builder
		b.WriteString("transfeed admin commands:\n")
		for _, c := range a.commands() {
			fmt.Fprintf(&b, "/%s — %s\n", c.Command, c.Description)
		}
		out = b.String()
	default:
		out = "Unknown command. Send /help for the list."
	}
	if err != nil {
		a.logger.Warn("admin command failed", slog.String("command", cmd), slog.Any("error", err))
		return "/" + cmd + " failed: " + err.Error()
	}
	return out
}

// searchResults is how many posts /search answers with.
const searchResults = 5

// search answers /search words with the top posts: their English title (as
// every surface shows it) and a link to each.
func (a *Admin) search(ctx context.Context, words string) (string, error) {
	if a.opts.Search == nil {
		return "Search is not available here.", nil
	}
	words = strings.TrimSpace(words)
	if words == "" {
		return "Send /search followed by words in English or Chinese, e.g. /search Greater Bay Area", nil
	}
	items, err := a.opts.Search(ctx, words, searchResults)
	if err != nil {
		return "", err
	}
	if len(items) == 0 {
		return "Nothing found for " + strconv.Quote(words) + ".", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Top %d for %q:\n", len(items), words)
	base := strings.TrimRight(a.opts.BaseURL, "/")
	for i, it := range items {
		fmt.Fprintf(&b, "%d. %s (%s)\n   %s/posts/%d\n", i+1, model.EnglishOf(it).Title, cst(it.Published), base, it.ID)
	}
	return b.String(), nil
}

func cst(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(model.China()).Format("2006-01-02 15:04:05") + " CST"
}

func (a *Admin) status(ctx context.Context) (string, error) {
	backlogs, err := a.st.DeliveryBacklogs(ctx)
	if err != nil {
		return "", err
	}
	states, err := a.st.ListChannelStates(ctx)
	if err != nil {
		return "", err
	}
	byKey := map[string]model.ChannelState{}
	for _, s := range states {
		byKey[s.Channel] = s
	}
	backlog := map[string]model.DeliveryBacklog{}
	for _, b := range backlogs {
		backlog[b.Channel] = b
	}
	var b strings.Builder
	b.WriteString("Channels:\n")
	if len(a.channels) == 0 {
		b.WriteString("(none configured)\n")
	}
	for _, ch := range a.channels {
		key := ch.Key
		st, bl := byKey[key], backlog[key]
		state := "active"
		switch {
		case st.Paused:
			state = "PAUSED"
			if st.Reason != "" {
				state += " (" + st.Reason + ")"
			}
		case st.PausedUntil.After(time.Now()):
			state = "rate-limited until " + cst(st.PausedUntil)
		}
		fmt.Fprintf(&b, "%s — %s; pending %d, sent %d, failed %d", key, state, bl.Pending, bl.Sent, bl.Failed)
		if st.ChatID != "" && st.ChatID != ch.Address {
			fmt.Fprintf(&b, "; now chat %s", st.ChatID)
		}
		b.WriteString("\n")
	}
	srcs, err := a.st.ListSources(ctx, time.Now())
	if err != nil {
		return "", err
	}
	failing := 0
	for _, s := range srcs {
		if s.ConsecutiveErrors > 0 {
			failing++
		}
	}
	fmt.Fprintf(&b, "\nSources: %d, failing: %d (/sources for details)", len(srcs), failing)
	return b.String(), nil
}

func (a *Admin) sources(ctx context.Context) (string, error) {
	srcs, err := a.st.ListSources(ctx, time.Now())
	if err != nil {
		return "", err
	}
	if len(srcs) == 0 {
		return "No sources yet.", nil
	}
	var b strings.Builder
	for _, s := range srcs {
		fmt.Fprintf(&b, "%s — last poll %s", s.ID, cst(s.LastPollAt))
		if s.LastStatus != "" {
			fmt.Fprintf(&b, " (%s)", s.LastStatus)
		}
		fmt.Fprintf(&b, ", %d items, %d in 24 h", s.ItemCount, s.ItemsLast24h)
		if s.ConsecutiveErrors > 0 {
			fmt.Fprintf(&b, "\n  FAILING since %s, %d errors in a row: %s", cst(s.FailingSince), s.ConsecutiveErrors, s.LastError)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

func (a *Admin) pollSource(ctx context.Context, id string) (string, error) {
	if a.poll == nil {
		return "Polling on demand is not available here.", nil
	}
	if id == "" {
		return "Usage: /poll <source>. Sources: " + a.sourceIDs(), nil
	}
	if !slices.Contains(a.sourceList, id) {
		return fmt.Sprintf("Unknown source %q. Sources: %s", id, a.sourceIDs()), nil
	}
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	res, err := a.poll(ctx, id)
	if err != nil {
		return "", err
	}
	if res == "" {
		res = "done"
	}
	return id + ": " + res, nil
}

func (a *Admin) sourceIDs() string {
	return strings.Join(a.sourceList, ", ")
}

// channel finds a configured channel key, case-insensitively.
func (a *Admin) channel(arg string) (string, bool) {
	for _, ch := range a.channels {
		if strings.EqualFold(ch.Key, arg) {
			return ch.Key, true
		}
	}
	return "", false
}

func (a *Admin) channelKeys() string {
	var keys []string
	for _, ch := range a.channels {
		keys = append(keys, ch.Key)
	}
	return strings.Join(keys, ", ")
}

func (a *Admin) setPaused(ctx context.Context, arg string, pause bool) (string, error) {
	verb := "resume"
	if pause {
		verb = "pause"
	}
	key, ok := a.channel(arg)
	if !ok {
		return fmt.Sprintf("Usage: /%s <channel>. Channels: %s", verb, a.channelKeys()), nil
	}
	st, err := a.st.GetChannelState(ctx, key)
	if err != nil {
		return "", err
	}
	st.Channel = key
	if pause {
		st.Paused, st.Reason = true, "paused by an admin"
	} else {
		st.Paused, st.Reason, st.AlertedAt = false, "", time.Time{}
	}
	if err := a.st.SetChannelState(ctx, st); err != nil {
		return "", err
	}
	if pause {
		return key + " paused. /resume " + key + " to continue.", nil
	}
	return key + " resumed. Pending posts go out now; /retry " + key + " re-queues failed ones.", nil
}

func (a *Admin) retry(ctx context.Context, arg string) (string, error) {
	key := ""
	if arg != "" {
		k, ok := a.channel(arg)
		if !ok {
			return fmt.Sprintf("Unknown channel %q. Channels: %s", arg, a.channelKeys()), nil
		}
		key = k
	}
	n, err := a.st.RetryFailedDeliveries(ctx, key)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Re-queued %d failed deliveries.", n), nil
}
