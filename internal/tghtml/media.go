package tghtml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Limits of sendMediaGroup (Bot API: "media: 2-10 items").
const (
	MinMediaGroup = 2
	MaxMediaGroup = 10
)

// InputMedia is one item of sendMediaGroup's media, as the Bot API reads it.
type InputMedia struct {
	Type      string `json:"type"`
	Media     string `json:"media"`
	Caption   string `json:"caption,omitempty"`
	ParseMode string `json:"parse_mode,omitempty"`
	// Fields a photo may carry that this project does not send; accepted so
	// the check is about limits, not style.
	ShowCaptionAboveMedia bool `json:"show_caption_above_media,omitempty"`
	HasSpoiler            bool `json:"has_spoiler,omitempty"`
}

// CheckMediaGroup parses sendMediaGroup's media parameter (a JSON array)
// and checks it the way the Bot API does: 2–10 items; photos and videos may
// be mixed, audio and documents only with their own kind; every item has a
// media (an http(s) URL, a file id, or attach://name naming an uploaded
// part listed in files); every caption is valid for its parse mode and at
// most 1024 characters. It returns the items.
func CheckMediaGroup(raw string, files map[string]bool) ([]InputMedia, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var items []InputMedia
	if err := dec.Decode(&items); err != nil {
		return nil, fmt.Errorf("can't parse media JSON array: %w", err)
	}
	if n := len(items); n < MinMediaGroup || n > MaxMediaGroup {
		return nil, fmt.Errorf("media must have %d-%d items, got %d", MinMediaGroup, MaxMediaGroup, n)
	}
	kinds := map[string]bool{}
	for i, m := range items {
		switch m.Type {
		case "photo", "video":
			kinds["visual"] = true
		case "audio", "document":
			kinds[m.Type] = true
		default:
			return nil, fmt.Errorf("media %d: unsupported type %q", i, m.Type)
		}
		if err := checkMediaRef(m.Media, files); err != nil {
			return nil, fmt.Errorf("media %d: %w", i, err)
		}
		if err := CheckCaption(m.Caption, m.ParseMode); err != nil {
			return nil, fmt.Errorf("media %d: %w", i, err)
		}
	}
	if len(kinds) > 1 {
		return nil, fmt.Errorf("audio and documents can only be grouped with their own kind")
	}
	return items, nil
}

func checkMediaRef(ref string, files map[string]bool) error {
	switch {
	case ref == "":
		return fmt.Errorf("there is no media")
	case strings.HasPrefix(ref, "attach://"):
		if !files[strings.TrimPrefix(ref, "attach://")] {
			return fmt.Errorf("file %s not found in the request", ref)
		}
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		if u, err := url.Parse(ref); err != nil || u.Host == "" {
			return fmt.Errorf("wrong HTTP URL specified")
		}
	case strings.ContainsAny(ref, " /:"):
		return fmt.Errorf("wrong file identifier/HTTP URL specified")
	}
	return nil
}

// LinkPreview is link_preview_options as the Bot API reads it.
type LinkPreview struct {
	IsDisabled       bool   `json:"is_disabled,omitempty"`
	URL              string `json:"url,omitempty"`
	PreferSmallMedia bool   `json:"prefer_small_media,omitempty"`
	PreferLargeMedia bool   `json:"prefer_large_media,omitempty"`
	ShowAboveText    bool   `json:"show_above_text,omitempty"`
}

// CheckLinkPreview parses link_preview_options (a JSON object; "" means
// none was sent): only the documented fields, a URL when given must be
// http(s), and small and large media are not both preferred.
func CheckLinkPreview(raw string) (LinkPreview, error) {
	var lp LinkPreview
	if strings.TrimSpace(raw) == "" {
		return lp, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lp); err != nil {
		return LinkPreview{}, fmt.Errorf("can't parse link preview options JSON object: %w", err)
	}
	if lp.URL != "" {
		if u, err := url.Parse(lp.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return LinkPreview{}, fmt.Errorf("link preview URL %q is not an http(s) URL", lp.URL)
		}
	}
	if lp.PreferSmallMedia && lp.PreferLargeMedia {
		return LinkPreview{}, fmt.Errorf("link preview can't prefer both small and large media")
	}
	return lp, nil
}
