package translate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/transfeed/transfeed/model"
	"golang.org/x/net/html"
)

// humanKeyVersion changes when HumanKey or the meaning of stored human
// translations changes.
const humanKeyVersion = "human1"

// HumanMemory holds translations made by people (corrections). Its keys
// (HumanKey) name no provider, model or glossary: a person's translation of
// a block wins over every provider's, for the same block in any post of any
// source. *store.Store implements it.
type HumanMemory interface {
	HumanTMGet(ctx context.Context, keys []string) (map[string]string, error)
}

// GlossaryStore holds the glossary entries added from the admin pages.
// *store.Store implements it.
type GlossaryStore interface {
	GlossaryMap(ctx context.Context) (map[string]string, error)
}

// HumanKey is the human-memory key of a block: the languages, the format
// and the text, trimmed (plain text also has its runs of white space made
// one space, so a mirror that wraps lines differently still matches).
func HumanKey(sourceLang, targetLang string, f Format, text string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s", humanKeyVersion, sourceLang, targetLang, f, normaliseHuman(f, text))
	return hex.EncodeToString(h.Sum(nil))
}

func normaliseHuman(f Format, text string) string {
	if f == FormatText {
		return strings.Join(strings.Fields(text), " ")
	}
	return strings.TrimSpace(text)
}

// Split is the inverse of Assemble: given a body assembled from this
// document (the English of a post), it returns each block's text (plain
// text for FormatText blocks, inner HTML for FormatHTML ones). It fails when
// assembled was not made from this document, for example when the original
// changed after the translation.
func (d *Document) Split(assembled string) ([]string, error) {
	out := make([]string, len(d.blocks))
	pos := 0
	for i, p := range d.parts {
		if p.block < 0 {
			if !strings.HasPrefix(assembled[pos:], p.literal) {
				return nil, errSplit
			}
			pos += len(p.literal)
			continue
		}
		end := len(assembled)
		switch {
		case i+1 == len(d.parts):
		case i+2 == len(d.parts):
			// The last literal ends the body.
			lit := d.parts[i+1].literal
			if !strings.HasSuffix(assembled, lit) || len(assembled)-len(lit) < pos {
				return nil, errSplit
			}
			end = len(assembled) - len(lit)
		default:
			k := strings.Index(assembled[pos:], d.parts[i+1].literal)
			if k < 0 {
				return nil, errSplit
			}
			end = pos + k
		}
		seg := assembled[pos:end]
		pos = end
		b := d.blocks[p.block]
		switch {
		case seg == b.raw:
			out[p.block] = b.Text
		case b.Format == FormatText:
			out[p.block] = html.UnescapeString(seg)
		default:
			out[p.block] = seg
		}
	}
	if pos != len(assembled) {
		return nil, errSplit
	}
	back, err := d.Assemble(out)
	if err != nil || back != assembled {
		return nil, errSplit
	}
	return out, nil
}

var errSplit = errors.New("translate: the English body does not follow the original's blocks")

// BlockPair is one translatable block of a post with its English.
type BlockPair struct {
	Index    int
	Format   Format
	Original string
	English  string
}

// PairBlocks pairs the blocks of a post's original body with those of its
// English body (an English body made by the engine from that original).
func PairBlocks(original, english string) ([]BlockPair, error) {
	if strings.TrimSpace(original) == "" {
		return nil, nil
	}
	doc, err := Segment(original)
	if err != nil {
		return nil, err
	}
	en, err := doc.Split(english)
	if err != nil {
		return nil, err
	}
	blocks := doc.Blocks()
	out := make([]BlockPair, len(blocks))
	for i, b := range blocks {
		out[i] = BlockPair{Index: i, Format: b.Format, Original: b.Text, English: en[i]}
	}
	return out, nil
}

// ReplaceBlocks returns english with the blocks in edits (block index →
// new text, FormatText plain or FormatHTML inner HTML already sanitised)
// replaced; everything else is kept byte for byte.
func ReplaceBlocks(original, english string, edits map[int]string) (string, error) {
	doc, err := Segment(original)
	if err != nil {
		return "", err
	}
	texts, err := doc.Split(english)
	if err != nil {
		return "", err
	}
	for i, t := range edits {
		if i < 0 || i >= len(texts) {
			return "", fmt.Errorf("translate: replace blocks: no block %d (the body has %d)", i, len(texts))
		}
		texts[i] = t
	}
	return doc.Assemble(texts)
}

// humanLookup returns key → English of the human translations of texts.
func (e *Engine) humanLookup(ctx context.Context, texts map[string]struct{}) (map[string]string, error) {
	if e.cfg.Human == nil || len(texts) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	got, err := e.cfg.Human.HumanTMGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("translate: human memory: %w", err)
	}
	return got, nil
}

// humanKey is HumanKey with the engine's languages.
func (e *Engine) humanKey(f Format, text string) string {
	return HumanKey(e.cfg.SourceLang, e.cfg.TargetLang, f, text)
}

// HumanKey is the human-memory key of a block for this engine's languages.
func (e *Engine) HumanKey(f Format, text string) string { return e.humanKey(f, text) }

// glossary returns the glossary for one call: the configured one merged
// with the stored entries (the configured ones win). The merged glossary is
// rebuilt only when the stored entries change.
func (e *Engine) glossary(ctx context.Context) (*Glossary, error) {
	if e.cfg.StoredGlossary == nil {
		return e.cfg.Glossary, nil
	}
	stored, err := e.cfg.StoredGlossary.GlossaryMap(ctx)
	if err != nil {
		return nil, fmt.Errorf("translate: stored glossary: %w", err)
	}
	e.glossMu.Lock()
	defer e.glossMu.Unlock()
	if e.glossMerged != nil && maps.Equal(stored, e.glossStored) {
		return e.glossMerged, nil
	}
	entries := maps.Clone(stored)
	maps.Copy(entries, e.cfg.Glossary.Entries())
	g, err := NewGlossary(entries)
	if err != nil {
		return nil, fmt.Errorf("translate: stored glossary: %w", err)
	}
	e.glossStored, e.glossMerged = stored, g
	return g, nil
}

// Glossary returns the glossary the next translation uses (configured
// entries merged with the stored ones).
func (e *Engine) Glossary(ctx context.Context) (*Glossary, error) { return e.glossary(ctx) }

// Estimate is what translating an item again would cost, found without
// sending anything.
type Estimate struct {
	Chars      int64 // characters that would be sent to the provider
	Segments   int   // segments that would be sent
	FromMemory int   // segments the memories (human or machine) already hold
}

// EstimateItem plans the translation of it with today's glossary and
// memories and counts what would be sent. Nothing is sent or stored.
func (e *Engine) EstimateItem(ctx context.Context, it model.Item) (Estimate, error) {
	j, err := e.plan(ctx, it)
	if err != nil {
		return Estimate{}, err
	}
	var res Result
	if err := e.lookup(ctx, j, &res); err != nil {
		return Estimate{}, err
	}
	est := Estimate{FromMemory: res.MemoryHits + j.humanHits}
	for _, u := range j.units {
		if !u.done {
			est.Chars += u.sendRune
			est.Segments++
		}
	}
	return est, nil
}
