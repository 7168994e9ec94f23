package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds"
	"github.com/transfeed/transfeed/feeds/discover"
	"github.com/transfeed/transfeed/model"
)

// fetcherGetter lets discovery fetch through the configured Fetcher.
type fetcherGetter struct{ f *feeds.Fetcher }

func (g fetcherGetter) GetPage(ctx context.Context, u string) (*discover.Page, error) {
	resp, err := g.f.Get(ctx, u, feeds.Validators{})
	if err != nil {
		return nil, err
	}
	return &discover.Page{URL: resp.URL, ContentType: resp.ContentType, Body: feeds.DecodeToUTF8(resp.Body, resp.ContentType)}, nil
}

// optionalConfig loads the config when one is named or present: discover
// works without one (with the default fetch policy).
func optionalConfig(flagValue string, stderr io.Writer, getenv getenvFunc) (*config.Config, bool) {
	path := configPath(flagValue, getenv)
	if flagValue == "" {
		if _, err := os.Stat(path); err != nil {
			return nil, true
		}
	}
	return loadConfig(path, stderr, getenv)
}

func discoveryFetcher(cfg *config.Config, stderr io.Writer) *feeds.Fetcher {
	if cfg == nil {
		return feeds.NewFetcher(feeds.FetchOptions{}, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	return newFetcher(cfg, newLogger(cfg, stderr))
}

func parsePageURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("want an absolute http:// or https:// URL, got %q", raw)
	}
	return u.String(), nil
}

func cmdDiscover(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, cfgFlag := newFlagSet("discover", stderr)
	noBody := fs.Bool("no-body", false, "do not fetch the first post's page")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	// Flags may also follow the URL.
	var target string
	if fs.NArg() > 0 {
		target = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitInvalid
		}
	}
	if target == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: transfeed discover [-config FILE] [-no-body] URL")
		return exitInvalid
	}
	pageURL, err := parsePageURL(target)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: discover: %v\n", err)
		return exitInvalid
	}
	cfg, ok := optionalConfig(*cfgFlag, stderr, getenv)
	if !ok {
		return exitInvalid
	}
	r, err := discover.Discover(feeds.WithAdminURL(ctx, pageURL), fetcherGetter{discoveryFetcher(cfg, stderr)}, pageURL, discover.Options{NoBody: *noBody})
	if err != nil && !errors.Is(err, discover.ErrNothing) {
		fmt.Fprintf(stderr, "transfeed: discover %s: %v\n", feeds.RedactURL(pageURL), err)
		return exitFailure
	}
	if !printDiscovery(stdout, r) {
		return exitFailure
	}
	return exitOK
}

// printDiscovery prints what was found and a source block; false when
// there is nothing to propose.
func printDiscovery(w io.Writer, r *discover.Report) bool {
	fmt.Fprintf(w, "# transfeed discover %s\n", feeds.RedactURL(r.URL))
	if r.Final != "" && r.Final != r.URL {
		fmt.Fprintf(w, "# (redirected to %s)\n", feeds.RedactURL(r.Final))
	}
	switch r.Kind {
	case discover.KindFeed:
		f := r.Feeds[0]
		how := "the page announces it (<link rel=\"alternate\">)"
		if f.URL == r.Final || f.URL == r.URL {
			how = "the URL is a feed"
		} else if f.Title == "" && f.Type != "application/rss+xml" && f.Type != "application/atom+xml" {
			how = "found at a common feed path"
		}
		fmt.Fprintf(w, "# found: a feed with %d posts at %s — %s\n", r.FeedItems, feeds.RedactURL(f.URL), how)
		for _, more := range r.Feeds[1:] {
			fmt.Fprintf(w, "#   also announced: %s %s\n", more.URL, more.Title)
		}
	case discover.KindHTML:
		l := r.Detection.List
		fmt.Fprintf(w, "# found: a list of %d posts by its shape (the repeated block with one article link, a title and a date)\n", len(l.Posts))
		fmt.Fprintf(w, "#   item:  %s\n#   title: %s\n#   link:  %s\n#   date:  %s\n", l.Selectors.Item, orDefault(l.Selectors.Title, "a"), orDefault(l.Selectors.Link, "a@href"), orDefault(l.Selectors.Date, "(none: the page shows no dates; dates come from the links or the posts' pages)"))
		fmt.Fprintln(w, "# first posts (title · date · link):")
		for i, p := range l.Posts[:min(10, len(l.Posts))] {
			fmt.Fprintf(w, "#   %2d. %s · %s · %s\n", i+1, p.Title, orDefault(p.Date, "-"), p.Link)
		}
		if r.Next != "" {
			fmt.Fprintf(w, "# next page: %s (a first import follows the next pages up to %d posts)\n", r.Next, feeds.FirstImportMax)
		}
		if b := r.Body; b != nil {
			switch {
			case b.Err != "":
				fmt.Fprintf(w, "# article body of the first post: not read (%s)\n", b.Err)
			case b.Readability:
				fmt.Fprintf(w, "# article body of the first post: no known container; readability will extract it\n")
			default:
				fmt.Fprintf(w, "# article body of the first post: %s (%d characters)\n", b.Selector, b.Chars)
			}
		}
		for _, c := range r.Detection.Candidates[:min(3, len(r.Detection.Candidates))] {
			if c.Why != "" {
				fmt.Fprintf(w, "# also considered: %s (%d items, %d dated) — %s\n", c.Selector, c.Items, c.Dated, c.Why)
			}
		}
	case discover.KindGkmlpt:
		fmt.Fprintf(w, "# found: a Guangdong disclosure catalogue (gkmlpt), site id SID=%s, read through its JSON list API\n", orDefault(r.GkmlptSID, "?"))
		if len(r.Columns) > 0 {
			fmt.Fprintln(w, "# columns (id · name · posts); a source reads one column: …/gkmlpt/index#<id>")
			for _, c := range r.Columns {
				note := strconv.Itoa(c.PostCount)
				if c.JumpURL != "" {
					note = "link only → " + c.JumpURL
				}
				fmt.Fprintf(w, "#   %s · %s · %s\n", c.ID, c.Name, note)
			}
		}
		if r.Catalogue != nil && r.Catalogue.Column == "" {
			for _, c := range r.Columns {
				if c.JumpURL == "" {
					cat := *r.Catalogue
					cat.Column = c.ID
					r.Catalogue = &cat
					fmt.Fprintf(w, "# the URL names no column; the block below reads column %s (%s): change the #id to the column you want\n", c.ID, c.Name)
					break
				}
			}
		}
		if len(r.GkmlptList) > 0 {
			fmt.Fprintln(w, "# first posts (title · published · 索引号 · link):")
			for i, a := range r.GkmlptList[:min(10, len(r.GkmlptList))] {
				when := "-"
				if !a.Published.IsZero() {
					when = a.Published.In(model.China()).Format("2006-01-02 15:04") + " (" + a.PublishedFrom + ")"
				}
				fmt.Fprintf(w, "#   %2d. %s · %s · %s · %s\n", i+1, a.Title, when, orDefault(a.Identifier, "-"), a.URL)
			}
		}
	}
	for _, s := range r.Saw {
		fmt.Fprintf(w, "# saw: %s\n", s)
	}
	src, ok := r.Proposal()
	if !ok {
		fmt.Fprintln(w, "# nothing list-like found: no feed, no catalogue, no repeated block of post links.")
		fmt.Fprintln(w, "# Write the html: selectors by hand (see README, \"Adding a source\").")
		return false
	}
	fmt.Fprintln(w, "#\n# Paste under sources: in config.yaml:")
	writeSourceBlock(w, src)
	if src.Type == "html" {
		fmt.Fprintln(w, "# (Or leave out the html: block: transfeed then finds the list by its shape at every poll,")
		fmt.Fprintln(w, "#  and /status reports when the page's shape changes.)")
	}
	return true
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// yq quotes a string for YAML (double-quoted style).
func yq(s string) string { return strconv.Quote(s) }

func writeSourceBlock(w io.Writer, s config.Source) {
	fmt.Fprintf(w, "  - id: %s\n", s.ID)
	fmt.Fprintf(w, "    name: %s\n", yq(s.Name))
	fmt.Fprintf(w, "    url: %s\n", yq(s.URL))
	fmt.Fprintf(w, "    type: %s\n", s.Type)
	if h := s.HTML; h != nil {
		fmt.Fprintln(w, "    html:")
		fmt.Fprintf(w, "      item: %s\n", yq(h.Item))
		fmt.Fprintf(w, "      title: %s\n", yq(orDefault(h.Title, "a")))
		fmt.Fprintf(w, "      link: %s\n", yq(orDefault(h.Link, "a@href")))
		if h.Date != "" {
			fmt.Fprintf(w, "      date: %s\n", yq(h.Date))
		}
	}
	if ft := s.FullText; ft != nil {
		if ft.Selector != "" {
			fmt.Fprintf(w, "    full_text: { selector: %s }\n", yq(ft.Selector))
		} else if ft.Readability {
			fmt.Fprintln(w, "    full_text: { readability: true }")
		}
	}
}
