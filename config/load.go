package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration file at path and returns it with ${VAR}
// references expanded from getenv, defaults applied, *_file secrets read
// (relative to the file's directory) and everything validated. An invalid
// file gives a *ValidationError listing every problem with file:line; a file
// that cannot be read gives a plain error. getenv is usually os.LookupEnv; nil
// means an empty environment.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(path, data, getenv)
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// Parse is Load for a configuration already in memory. name is used in
// problem messages, and relative paths (*_file, glossary_file) are resolved
// against its directory. The only error it returns is a *ValidationError.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	l := &loader{
		file:     name,
		getenv:   getenv,
		lines:    map[string]int{},
		present:  map[string]bool{},
		bad:      map[string]bool{},
		expanded: map[*yaml.Node]bool{},
		textLine: map[string]int{},
	}
	c := &Config{dir: filepath.Dir(name)}
	root, ok := l.decode(data)
	if !ok {
		return nil, &ValidationError{Problems: l.sorted()}
	}
	if root != nil {
		l.walk(root, reflect.TypeFor[Config](), "")
		if err := root.Decode(c); err != nil {
			l.decodeError(err)
		}
		l.fillLines(c)
	}
	l.applyDefaults(c)
	l.loadSecrets(c)
	l.loadAdminPassword(c)
	l.validate(c)
	if len(l.problems) > 0 {
		return nil, &ValidationError{Problems: l.sorted()}
	}
	c.Warnings = l.warnings
	return c, nil
}

// loader holds the state of one Parse: where each key was found, and the
// problems found so far.
type loader struct {
	file   string
	getenv func(string) (string, bool)

	lines    map[string]int      // key path ("sources[1].url") → line
	present  map[string]bool     // key path given with a usable, non-null value
	bad      map[string]bool     // key path already reported; nothing below it is reported again
	expanded map[*yaml.Node]bool // scalars already ${VAR}-expanded (aliases share nodes)
	// textLine is, per key path, the line where a scalar's text starts (the
	// line after the key for a | or > block).
	textLine map[string]int
	problems []Problem
	warnings []Problem
}

// warn records something that is allowed but probably a mistake.
func (l *loader) warn(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	l.warnings = append(l.warnings, Problem{File: l.file, Line: l.line(path), Msg: msg})
}

// add records a problem about the value at path. Problems below a path that
// was already reported as malformed are dropped: one mistake, one message.
func (l *loader) add(path, format string, args ...any) {
	for p := path; ; p = parentPath(p) {
		if l.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	l.addAt(l.line(path), path, format, args...)
}

// addAt records a problem at an explicit line.
func (l *loader) addAt(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	p := Problem{File: l.file, Line: line, Msg: msg}
	if !slices.Contains(l.problems, p) {
		l.problems = append(l.problems, p)
	}
}

// line is the line of path, or of its nearest ancestor that has one.
func (l *loader) line(path string) int {
	for p := path; ; p = parentPath(p) {
		if n, ok := l.lines[p]; ok {
			return n
		}
		if p == "" {
			return 0
		}
	}
}

// has reports whether the key at path was given a usable value.
func (l *loader) has(path string) bool { return l.present[path] && !l.bad[path] }

func (l *loader) sorted() []Problem {
	ps := slices.Clone(l.problems)
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
	return ps
}

var (
	yamlLineRE  = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlValueRE = regexp.MustCompile("`[^`]*`")
)

// decode parses the YAML text into a node tree and returns the root node
// (nil for an empty file). ok is false after a syntax error, which is
// recorded: nothing else can be checked then.
func (l *loader) decode(data []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true // empty file: defaults only
		}
		l.syntaxError(err)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.addAt(extra.Line, "", "only one YAML document is allowed (found a second one after ---)")
	} else if !errors.Is(err, io.EOF) {
		l.syntaxError(err)
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, true
	}
	root = doc.Content[0]
	l.lines[""] = root.Line
	return root, true
}

func (l *loader) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		l.addAt(0, "", "YAML syntax: %s", msg)
		return
	}
	n, _ := strconv.Atoi(m[1])
	if slices.Contains(yamlParserProblems, m[2]) {
		// yaml.v3 reports these with the 0-based line of the enclosing
		// block or list, not of the problem itself.
		l.addAt(n+1, "", "YAML syntax: %s (in the block or list starting on this line)", m[2])
		return
	}
	l.addAt(n, "", "YAML syntax: %s", m[2])
}

// yamlParserProblems are the yaml.v3 parser errors located by the start of
// their context (see yaml.v3 parserc.go).
var yamlParserProblems = []string{
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
}

// decodeError turns what yaml.Node.Decode still objected to into problems.
// walk has checked and normalised every value first, so this is a safety
// net; the offending values are cut out of the message so that no secret
// can leak through it.
func (l *loader) decodeError(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		l.addAt(0, "", "cannot decode: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return
	}
	for _, e := range te.Errors {
		e = yamlValueRE.ReplaceAllString(e, "value")
		if m := yamlLineRE.FindStringSubmatch(e); m != nil {
			n, _ := strconv.Atoi(m[1])
			l.addAt(n, "", "%s", m[2])
			continue
		}
		l.addAt(0, "", "%s", e)
	}
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

// walk checks the node tree against the Go type t before it is decoded: it
// reports unknown and duplicate keys and values of the wrong shape (and cuts
// them out, so Decode cannot fail on them), expands ${VAR} in scalar values,
// normalises scalars so that Decode reads them as walk did, and records the
// line of every key path.
func (l *loader) walk(n *yaml.Node, t reflect.Type, path string) {
	n = resolveAlias(n)
	if isNull(n) {
		return
	}
	l.present[path] = true
	if t == durationType || t == byteSizeType {
		l.walkScalar(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		l.walk(n, t.Elem(), path)
	case reflect.Struct:
		l.walkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			l.reject(n, t, path, "expected a list, got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			l.lines[p] = item.Line
			l.walk(item, t.Elem(), p)
		}
	case reflect.Map:
		l.walkMap(n, t, path)
	default:
		l.walkScalar(n, t, path)
	}
}

func (l *loader) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		l.reject(n, t, path, "expected keys and values, got %s", describe(n))
		return
	}
	fields := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			fields[name] = f
		}
	}
	seen := map[string]int{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			if !isMergeable(v) {
				l.addAt(k.Line, path, "<< must refer to a mapping (<<: *anchor) or a list of them")
				continue
			}
			l.walkMerge(v, t, path)
			kept = append(kept, k, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.addAt(k.Line, path, "keys must be plain names, got %s", describe(k))
			continue
		}
		child := joinPath(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			l.addAt(k.Line, child, "unknown key%s", suggest(k.Value, fields))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.addAt(k.Line, child, "key given twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		l.lines[child] = keyLine(k, v)
		l.walk(v, f.Type, child)
		kept = append(kept, k, v)
	}
	n.Content = kept
}

// isMergeable reports whether v can follow "<<": a mapping, or a list of
// mappings, possibly through aliases.
func isMergeable(v *yaml.Node) bool {
	v = resolveAlias(v)
	switch v.Kind {
	case yaml.MappingNode:
		return true
	case yaml.SequenceNode:
		for _, m := range v.Content {
			if resolveAlias(m).Kind != yaml.MappingNode {
				return false
			}
		}
		return true
	}
	return false
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// walkMerge checks the mapping(s) merged in with "<<: *anchor".
func (l *loader) walkMerge(v *yaml.Node, t reflect.Type, path string) {
	v = resolveAlias(v)
	if v.Kind == yaml.SequenceNode {
		for _, m := range v.Content {
			l.walkMerge(m, t, path)
		}
		return
	}
	l.walkStruct(v, t, path)
}

func (l *loader) walkMap(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		l.reject(n, t, path, "expected keys and values, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			l.addAt(k.Line, path, "keys must be non-empty text")
			continue
		}
		child := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			l.addAt(k.Line, child, "key given twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		k.Tag, k.Style = "!!str", yaml.DoubleQuotedStyle
		l.lines[child] = keyLine(k, v)
		l.walk(v, t.Elem(), child)
		kept = append(kept, k, v)
	}
	n.Content = kept
}

func (l *loader) walkScalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		l.reject(n, t, path, "expected a single value, got %s", describe(n))
		return
	}
	l.textLine[path] = n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		l.textLine[path] = n.Line + 1
	}
	if !l.expanded[n] {
		v, err := expandEnv(n.Value, l.getenv)
		if err != nil {
			l.reject(n, t, path, "%v", err)
			return
		}
		n.Value = v
		l.expanded[n] = true
	}
	v := strings.TrimSpace(n.Value)
	if v == "" && t.Kind() != reflect.String {
		setNull(n) // "${UNSET}" for a number, duration or size: use the default
		delete(l.present, path)
		return
	}
	switch {
	case t == durationType:
		if _, err := time.ParseDuration(v); err != nil {
			l.reject(n, t, path, "invalid duration %q (use Go syntax: 90s, 15m, 6h)", v)
			return
		}
		n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
	case t == byteSizeType:
		if _, err := ParseByteSize(v); err != nil {
			l.reject(n, t, path, "invalid size %q (use e.g. 10MB or 10MiB)", v)
			return
		}
		n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
	case t.Kind() == reflect.String:
		n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
	case t.Kind() == reflect.Bool:
		b, ok := parseBool(v)
		if !ok {
			l.reject(n, t, path, "expected true or false, got %q", v)
			return
		}
		n.Tag, n.Style, n.Value = "!!bool", 0, strconv.FormatBool(b)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 0, t.Bits())
		if err != nil {
			l.reject(n, t, path, "expected a whole number, got %q", v)
			return
		}
		n.Tag, n.Style, n.Value = "!!int", 0, strconv.FormatInt(i, 10)
	default:
		l.reject(n, t, path, "unsupported value type %s", t)
	}
}

// reject reports a malformed value and replaces its node by an empty value
// of type t, so that Decode cannot fail on it and list items keep their
// positions; defaults then apply, and nothing more is said about the path.
func (l *loader) reject(n *yaml.Node, t reflect.Type, path, format string, args ...any) {
	l.add(path, format, args...)
	l.bad[path] = true
	*n = emptyNode(t, n.Line, n.Column)
}

// emptyNode is the zero value of t as a YAML node.
func emptyNode(t reflect.Type, line, col int) yaml.Node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n := yaml.Node{Kind: yaml.ScalarNode, Line: line, Column: col}
	switch {
	case t == durationType || t == byteSizeType:
		n.Tag, n.Value = "!!str", "0"
		if t == durationType {
			n.Value = "0s"
		}
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
	case t.Kind() == reflect.Slice:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
	case t.Kind() == reflect.Bool:
		n.Tag, n.Value = "!!bool", "false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		n.Tag, n.Value = "!!int", "0"
	default:
		n.Tag, n.Value = "!!str", ""
	}
	return n
}

// fillLines sets the Line fields of sources, feeds and channels.
func (l *loader) fillLines(c *Config) {
	for i := range c.Sources {
		c.Sources[i].Line = l.line(fmt.Sprintf("sources[%d]", i))
	}
	for i := range c.Feeds {
		c.Feeds[i].Line = l.line(fmt.Sprintf("feeds[%d]", i))
	}
	for i := range c.Telegram.Channels {
		p := fmt.Sprintf("telegram.channels[%d]", i)
		c.Telegram.Channels[i].Line = l.line(p)
		c.Telegram.Channels[i].TemplateLine = l.textLine[p+".template"]
	}
}

// expandEnv replaces ${VAR} and ${VAR:-default} (default used when VAR is
// unset or empty) with values from getenv. An unset VAR without default
// expands to "". "$${" is a literal "${"; any other "$" is kept as is.
func expandEnv(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // "$${" → "${"
			b.WriteString(s[:i])
			b.WriteString("{")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New("unterminated ${ (write $${ for a literal ${)")
		}
		expr := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !envNameRE.MatchString(name) {
			return "", fmt.Errorf("invalid variable name %q in ${...}", name)
		}
		v, ok := getenv(name)
		if (!ok || v == "") && hasDef {
			v = def
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func setNull(n *yaml.Node) {
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys and values"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "something else"
}

// keyLine is where a key's value is reported: the key's own line for a
// block list or mapping (whose node starts on the next line), else the
// value's line.
func keyLine(k, v *yaml.Node) int {
	if v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
		return k.Line
	}
	return v.Line
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// suggest proposes the closest known key for a likely typo.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	for name := range fields {
		if d := editDistance(key, name); d < bestD || d == bestD && name < best {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
