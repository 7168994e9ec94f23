package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// The admin pages (/admin/…): sign-in, correction of a post's English block
// by block, the stored glossary and retranslation. Off unless an admin
// password hash is configured; every page but the sign-in form needs a
// session, and every form carries the session's CSRF token.

// Session and sign-in policy.
const (
	sessionCookie    = "transfeed_admin"
	loginCSRFCookie  = "transfeed_login"
	sessionLifetime  = 12 * time.Hour
	adminPath        = "/admin"
	maxAdminForm     = 1 << 20 // bytes of a posted form
	glossaryScanPost = 500     // newest ready posts searched for a term
	maxRetranslate   = 100     // posts retranslated by one action
	cspAdmin         = "default-src 'none'; img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// defaultLoginPolicy: 10 wrong passwords from one address within 15 minutes
// are free; each further one locks the address out for 30 s, doubling, at
// most 15 minutes.
func defaultLoginPolicy() store.LoginPolicy {
	return store.LoginPolicy{Free: 10, Window: 15 * time.Minute, Base: 30 * time.Second, Max: 15 * time.Minute}
}

// SessionStore keeps admin sessions, shared by every instance.
type SessionStore interface {
	CreateAdminSession(ctx context.Context, a store.AdminSession) error
	GetAdminSession(ctx context.Context, tokenHash string, now time.Time) (store.AdminSession, error)
	DeleteAdminSession(ctx context.Context, tokenHash string) error
	DeleteExpiredAdminSessions(ctx context.Context, now time.Time) error
}

// LoginLimiter counts wrong passwords per client address.
type LoginLimiter interface {
	LoginLockedUntil(ctx context.Context, client string, now time.Time) (time.Time, error)
	RecordLoginFailure(ctx context.Context, client string, now time.Time, p store.LoginPolicy) (int, time.Time, error)
	ClearLoginFailures(ctx context.Context, client string) error
}

// CorrectionStore stores corrections and reads their history.
type CorrectionStore interface {
	CorrectItem(ctx context.Context, id int64, c store.ItemCorrection) error
	ListCorrections(ctx context.Context, itemID int64) ([]store.Correction, error)
	CorrectedItems(ctx context.Context, ids []int64) (map[int64]time.Time, error)
}

// GlossaryEditor edits the stored glossary.
type GlossaryEditor interface {
	PutGlossaryEntry(ctx context.Context, e store.GlossaryEntry) error
	DeleteGlossaryEntry(ctx context.Context, source string) error
	GlossaryEntries(ctx context.Context) ([]store.GlossaryEntry, error)
}

// AuditLog records and lists who changed what.
type AuditLog interface {
	AddAudit(ctx context.Context, e store.AuditEntry) error
	ListAudit(ctx context.Context, itemID int64, limit int) ([]store.AuditEntry, error)
}

// Retranslation stores a post translated again.
type Retranslation interface {
	MarkReady(ctx context.Context, id int64, t model.Translation, channels []string, now time.Time) error
}

// AdminStore is everything the admin pages use. *store.Store implements it.
type AdminStore interface {
	SessionStore
	LoginLimiter
	CorrectionStore
	GlossaryEditor
	AuditLog
	Retranslation
}

// Retranslator is the translation engine as the admin pages use it
// (*translate.Engine).
type Retranslator interface {
	TranslateItem(ctx context.Context, it model.Item) (*translate.Result, error)
	EstimateItem(ctx context.Context, it model.Item) (translate.Estimate, error)
}

// AdminDeps turns the admin pages on.
type AdminDeps struct {
	Store AdminStore
	// Engine retranslates posts; nil when no provider is configured
	// (corrections still work; retranslation is not offered).
	Engine Retranslator
	// ConfigGlossary is the YAML glossary (read-only here).
	ConfigGlossary map[string]string
	// SourceLang, TargetLang name the human-memory keys (default zh, en).
	SourceLang, TargetLang string
	// Changed, when set, is told the id of a post whose English changed
	// (a correction or a retranslation), e.g. to edit sent messages.
	Changed func(ctx context.Context, itemID int64)
	Now     func() time.Time
}

type admin struct {
	deps   AdminDeps
	hash   *passwordHash
	secure bool
	tmpl   map[string]*template.Template
	policy store.LoginPolicy
}

//go:embed templates/admin/*.html
var adminTemplateFS embed.FS

var adminPageNames = [...]string{"login", "index", "post", "glossary"}

// EnableAdmin turns the admin pages on with the password hash of
// server.admin.password_file. Call it after New and before Handler; without
// it every /admin route answers 404.
func (s *Server) EnableAdmin(deps AdminDeps) error {
	if deps.Store == nil {
		return errors.New("server: admin: nil store")
	}
	h, err := parsePasswordHash(s.cfg.Server.Admin.PasswordHash.Reveal())
	if err != nil {
		return err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.SourceLang == "" {
		deps.SourceLang = "zh"
	}
	if deps.TargetLang == "" {
		deps.TargetLang = "en"
	}
	tmpl := make(map[string]*template.Template, len(adminPageNames))
	for _, name := range adminPageNames {
		t, err := template.New("layout.html").Funcs(template.FuncMap{"datetime": datetimeAttr}).
			ParseFS(adminTemplateFS, "templates/admin/layout.html", "templates/admin/"+name+".html")
		if err != nil {
			return fmt.Errorf("server: admin template %s: %w", name, err)
		}
		tmpl[name] = t
	}
	s.admin = &admin{deps: deps, hash: h, secure: strings.HasPrefix(s.b.URL("/"), "https://"), tmpl: tmpl, policy: defaultLoginPolicy()}
	s.handler = s.routes()
	return nil
}

func (s *Server) adminRoutes(mux *http.ServeMux) {
	if s.admin == nil {
		return
	}
	mux.HandleFunc("GET /admin/login", s.handleLoginForm)
	mux.HandleFunc("POST /admin/login", s.handleLogin)
	mux.HandleFunc("POST /admin/logout", s.withSession(s.handleLogout))
	mux.HandleFunc("GET /admin/{$}", s.withSession(s.handleAdminIndex))
	mux.HandleFunc("GET /admin/posts/{id}", s.withSession(s.handleAdminPost))
	mux.HandleFunc("POST /admin/posts/{id}", s.withSession(s.handleAdminCorrect))
	mux.HandleFunc("GET /admin/glossary", s.withSession(s.handleGlossary))
	mux.HandleFunc("POST /admin/glossary", s.withSession(s.handleGlossaryAdd))
	mux.HandleFunc("POST /admin/glossary/delete", s.withSession(s.handleGlossaryDelete))
	mux.HandleFunc("POST /admin/glossary/retranslate", s.withSession(s.handleGlossaryRetranslate))
	mux.HandleFunc("GET /admin/glossary.tsv", s.withSession(s.handleGlossaryTSV))
	rest := s.withSession(func(w http.ResponseWriter, r *http.Request, _ *session) { s.notFound(w, r) })
	mux.HandleFunc("GET /admin/", rest)
	mux.HandleFunc("POST /admin/", rest)
}

// session is the signed-in admin of a request.
type session struct {
	store.AdminSession
	actor string
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// clientAddr is the address a request came from (the rate limit's key and
// the audit log's "from").
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withSession runs h for a request with a valid session; without one the
// browser is sent to the sign-in form. A POST must carry the session's CSRF
// token: 403 otherwise.
func (s *Server) withSession(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", cspAdmin)
		w.Header().Set("X-Frame-Options", "DENY")
		sess, err := s.currentSession(r)
		if err != nil {
			if !errors.Is(err, model.ErrNotFound) {
				s.serverError(w, r, err)
				return
			}
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = adminPath + "/"
			}
			http.Redirect(w, r, adminPath+"/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxAdminForm)
			if err := r.ParseForm(); err != nil {
				s.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
				s.errorPage(w, r, http.StatusForbidden, "The form has expired or did not come from this site. Reload the page and try again.")
				return
			}
		}
		h(w, r, sess)
	}
}

func (s *Server) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, model.ErrNotFound
	}
	a, err := s.admin.deps.Store.GetAdminSession(r.Context(), hashToken(c.Value), s.admin.deps.Now())
	if err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return nil, model.ErrNotFound
		}
		return nil, fmt.Errorf("server: admin session: %w", err)
	}
	return &session{AdminSession: a, actor: "editor from " + a.Client}, nil
}

// adminPage is what admin templates get.
type adminPage struct {
	SiteTitle string
	Title     string
	CSRF      string
	Message   string
	Error     string
	Next      string
	Posts     []adminPostRow
	Audit     []auditRow
	Post      *adminPostView
	Glossary  *glossaryView
}

type adminPostRow struct {
	ID               int64
	Title, Source    string
	Time             string
	Corrected, Human bool
}

type auditRow struct {
	Time, Actor, Action, Detail string
	ItemID                      int64
}

func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, name string, code int, d adminPage) {
	d.SiteTitle = s.title
	var buf strings.Builder
	if err := s.admin.tmpl[name].Execute(&buf, d); err != nil {
		s.serverError(w, r, fmt.Errorf("server: admin page %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", cspAdmin)
	w.WriteHeader(code)
	_, _ = w.Write([]byte(buf.String()))
}

func randomToken() string { return rand.Text() + rand.Text() }

func (s *Server) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.admin.secure, SameSite: http.SameSiteStrictMode}
}

// safeNext keeps a sign-in's "next" inside /admin.
func safeNext(next string) string {
	if !strings.HasPrefix(next, adminPath+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return adminPath + "/"
	}
	return next
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if sess, err := s.currentSession(r); err == nil && sess != nil {
		http.Redirect(w, r, adminPath+"/", http.StatusSeeOther)
		return
	}
	s.loginForm(w, r, http.StatusOK, "", safeNext(r.URL.Query().Get("next")))
}

// loginForm serves the sign-in form with a fresh pre-session CSRF token
// (double submit: a cookie and the form's field must agree).
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, code int, msg, next string) {
	tok := randomToken()
	http.SetCookie(w, s.cookie(loginCSRFCookie, tok, adminPath+"/login", 3600))
	s.renderAdmin(w, r, "login", code, adminPage{Title: "Sign in", CSRF: tok, Error: msg, Next: next})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := s.admin
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		s.errorPage(w, r, http.StatusForbidden, "The form has expired or did not come from this site. Reload the page and try again.")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	client := clientAddr(r)
	now := a.deps.Now()
	until, err := a.deps.Store.LoginLockedUntil(ctx, client, now)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !until.IsZero() {
		wait := max(time.Second, until.Sub(now).Round(time.Second))
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		s.loginForm(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many wrong passwords. Try again in %s.", wait), next)
		return
	}
	if !a.hash.matches([]byte(r.PostFormValue("password"))) {
		n, locked, err := a.deps.Store.RecordLoginFailure(ctx, client, now, a.policy)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.logger.Warn("admin sign-in failed: wrong password", slog.String("client", client), slog.Int("failures", n))
		msg := "Wrong password."
		if !locked.IsZero() {
			msg = fmt.Sprintf("Wrong password. Too many wrong passwords: try again in %s.", locked.Sub(now).Round(time.Second))
		}
		s.loginForm(w, r, http.StatusUnauthorized, msg, next)
		return
	}
	if err := a.deps.Store.ClearLoginFailures(ctx, client); err != nil {
		s.serverError(w, r, err)
		return
	}
	tok := randomToken()
	sess := store.AdminSession{TokenHash: hashToken(tok), CSRF: randomToken(), Client: client, CreatedAt: now, ExpiresAt: now.Add(sessionLifetime)}
	if err := a.deps.Store.CreateAdminSession(ctx, sess); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := a.deps.Store.DeleteExpiredAdminSessions(ctx, now); err != nil {
		s.logger.Warn("removing expired admin sessions failed", slog.Any("error", err))
	}
	s.audit(ctx, store.AuditEntry{At: now, Actor: "editor from " + client, Action: "sign-in"})
	s.logger.Info("admin signed in", slog.String("client", client))
	http.SetCookie(w, s.cookie(sessionCookie, tok, adminPath, int(sessionLifetime.Seconds())))
	http.SetCookie(w, s.cookie(loginCSRFCookie, "", adminPath+"/login", -1))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := s.admin.deps.Store.DeleteAdminSession(r.Context(), sess.TokenHash); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", adminPath, -1))
	http.Redirect(w, r, adminPath+"/login", http.StatusSeeOther)
}

// audit records an entry; a failure is logged (the change itself is done).
func (s *Server) audit(ctx context.Context, e store.AuditEntry) {
	if err := s.admin.deps.Store.AddAudit(ctx, e); err != nil {
		s.logger.Error("admin audit log write failed", slog.String("action", e.Action), slog.Any("error", err))
	}
}

func (s *Server) handleAdminIndex(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	items, err := s.st.ListItems(ctx, store.ItemQuery{States: []model.State{model.StateReady}, Limit: PageSize})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	corrected, err := s.admin.deps.Store.CorrectedItems(ctx, ids)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := adminPage{Title: "Admin", CSRF: sess.CSRF, Message: r.URL.Query().Get("msg")}
	for _, it := range items {
		_, c := corrected[it.ID]
		d.Posts = append(d.Posts, adminPostRow{ID: it.ID, Title: model.EnglishOf(it).Title, Source: s.source(it.SourceID).Name,
			Time: it.Published.In(s.loc).Format("2006-01-02 15:04"), Corrected: c})
	}
	audit, err := s.admin.deps.Store.ListAudit(ctx, 0, 30)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Audit = s.auditRows(audit)
	s.renderAdmin(w, r, "index", http.StatusOK, d)
}

func (s *Server) auditRows(es []store.AuditEntry) []auditRow {
	out := make([]auditRow, len(es))
	for i, e := range es {
		out[i] = auditRow{Time: e.At.In(s.loc).Format("2006-01-02 15:04:05"), Actor: e.Actor, Action: e.Action, Detail: e.Detail, ItemID: e.ItemID}
	}
	return out
}

// forgetVersions drops the memoised feed versions, so a change made here
// shows in the feeds at the next request.
func (s *Server) forgetVersions() {
	s.verMu.Lock()
	defer s.verMu.Unlock()
	clear(s.versions)
}
