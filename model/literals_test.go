package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// stateWords are the spellings of states and statuses that only model may
// write: anywhere else, the constant is used.
var stateWords = map[string]bool{}

// stateFields are the fields and variables that hold a state or status; a
// string literal assigned to or compared with one of them is a state
// literal whatever its value ("ok", "error" and "new" are too common to ban
// outright).
var stateFields = map[string]bool{"State": true, "Status": true, "LastStatus": true, "OnFailure": true, "LastResult": true}

func init() {
	for _, v := range []string{
		string(StateTranslating), string(StateReady),
		string(DeliveryPending), string(DeliverySent), string(DeliveryFailed),
		string(PollNotModified), PollNotModified.String(), string(PollSkipped), string(PollNever),
		string(ReviewApproved), string(ReviewSkipped), // "waiting" is a common word (worker logs use it)
	} {
		stateWords[v] = true
	}
}

// TestNoStateLiteralsOutsideModel parses every Go file of the module
// (tests included) and fails on a state or status written as a literal
// outside this package.
func TestNoStateLiteralsOutsideModel(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above model/: %v", err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "model" && filepath.Dir(path) == root || strings.HasPrefix(name, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for _, bad := range stateLiterals(f) {
			t.Errorf("%s: state literal %s: use the model constant", fset.Position(bad.Pos()), bad.Value)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: the walk is broken", checked)
	}
}

func TestStateLiteralsAreFound(t *testing.T) {
	cases := []struct {
		src  string
		want int
	}{
		{`package p; func f(it T) bool { return it.State == "ready" }`, 1},
		{`package p; var x = T{Status: "ok"}`, 1},
		{`package p; func f(r *T) { r.LastStatus = "error" }`, 1},
		{`package p; func f() { switch v { case "not_modified": } }`, 1},
		{`package p; var s = "not modified"`, 1},
		{`package p; func f(it T) bool { return it.State == model.StateReady }`, 0},
		{`package p; var x = T{Name: "ok"}; type U struct{ Pending int ` + "`json:\"pending\"`" + ` }`, 0},
		{`package p; func f() { log.Info("polled", "error", err) }`, 0},
	}
	for _, tc := range cases {
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", tc.src, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if got := len(stateLiterals(f)); got != tc.want {
			t.Errorf("%s: %d literals found, want %d", tc.src, got, tc.want)
		}
	}
}

func stateLiterals(f *ast.File) []*ast.BasicLit {
	var out []*ast.BasicLit
	isStateExpr := func(e ast.Expr) bool {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			return stateFields[x.Sel.Name]
		case *ast.Ident:
			return stateFields[x.Name]
		}
		return false
	}
	str := func(e ast.Expr) *ast.BasicLit {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING && lit.Value != `""` {
			return lit
		}
		return nil
	}
	seen := map[*ast.BasicLit]bool{}
	add := func(lit *ast.BasicLit) {
		if lit != nil && !seen[lit] {
			seen[lit] = true
			out = append(out, lit)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Field:
			return false // struct tags and parameter lists hold no program literals
		case *ast.BasicLit:
			if v, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING && stateWords[v] {
				add(x)
			}
		case *ast.BinaryExpr:
			if x.Op == token.EQL || x.Op == token.NEQ {
				if isStateExpr(x.X) {
					add(str(x.Y))
				}
				if isStateExpr(x.Y) {
					add(str(x.X))
				}
			}
		case *ast.AssignStmt:
			for i, l := range x.Lhs {
				if i < len(x.Rhs) && isStateExpr(l) {
					add(str(x.Rhs[i]))
				}
			}
		case *ast.KeyValueExpr:
			if isStateExpr(x.Key) {
				add(str(x.Value))
			}
		}
		return true
	})
	return out
}
