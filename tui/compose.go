package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// form is a page for writing something: a new issue (title, labels,
// body), a comment or a review (body only). The body is a text area, or
// the user's $EDITOR with ctrl+e.
type form struct {
	c       *common
	id      int
	title   string // breadcrumb
	hint    string // what the form does, shown above the fields
	w, h    int
	inputs  []textinput.Model
	names   []string
	body    textarea.Model
	focus   int // index into inputs, len(inputs) for the body
	sending bool
	err     error
	// submit runs off the event loop with the fields and the body, and
	// returns the status to show.
	submit func(ctx context.Context, fields []string, body string) (string, error)
	// needBody says the body may not be empty.
	needBody bool
	// draft names what the form writes (drafts), so that a draft left
	// with esc comes back when the same form opens again.
	draft string
}

// draft is what a form held when the user left it unsent.
type draft struct {
	fields []string
	body   string
}

type (
	formSentMsg   struct{ err error }
	editorFileMsg struct {
		path string
		err  error
	}
	editorDoneMsg struct {
		path string
		err  error
	}
	editorTextMsg struct {
		text string
		err  error
	}
)

func newForm(c *common, draftKey, title, hint string, fields []string, needBody bool,
	submit func(ctx context.Context, fields []string, body string) (string, error)) *form {
	st := c.st
	f := &form{c: c, id: c.id(), title: title, hint: hint, names: fields, submit: submit, needBody: needBody, draft: draftKey}
	for _, n := range fields {
		ti := textinput.New()
		ti.Prompt = fit(n+":", 8)
		ti.PromptStyle = st.Dim
		ti.TextStyle = st.r.NewStyle()
		ti.Cursor.Style = st.r.NewStyle().Reverse(true)
		ti.Cursor.TextStyle = st.r.NewStyle()
		ti.Cursor.SetMode(cursor.CursorStatic)
		ti.CharLimit = 1024
		f.inputs = append(f.inputs, ti)
	}
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.Placeholder = "Write in markdown…"
	ta.CharLimit = 0
	ta.MaxHeight = 0
	ta.Prompt = "│ "
	sty := textarea.Style{
		Base: st.r.NewStyle(), CursorLine: st.r.NewStyle(), CursorLineNumber: st.Dim,
		EndOfBuffer: st.Dim, LineNumber: st.Dim, Placeholder: st.Dim, Prompt: st.Focus, Text: st.r.NewStyle(),
	}
	ta.FocusedStyle = sty
	blur := sty
	blur.Prompt = st.Dim
	ta.BlurredStyle = blur
	ta.Cursor.Style = st.r.NewStyle().Reverse(true)
	ta.Cursor.TextStyle = st.r.NewStyle()
	ta.Cursor.SetMode(cursor.CursorStatic)
	f.body = ta
	f.setFocus(0)
	if d, ok := c.drafts[draftKey]; ok {
		for i := range f.inputs {
			f.inputs[i].SetValue(d.fields[i])
		}
		f.body.SetValue(d.body)
		f.hint += " (your draft)"
	}
	return f
}

// keepDraft keeps what the form holds for the next time it opens, and
// reports whether there was anything to keep.
func (f *form) keepDraft() bool {
	d := draft{fields: f.values(), body: f.body.Value()}
	empty := strings.TrimSpace(d.body) == ""
	for _, v := range d.fields {
		empty = empty && strings.TrimSpace(v) == ""
	}
	if empty {
		delete(f.c.drafts, f.draft)
		return false
	}
	f.c.drafts[f.draft] = d
	return true
}

// newIssueForm files a new issue.
func newIssueForm(c *common, rid string) *form {
	src := c.src.Issues
	return newForm(c, "issue "+rid, "new issue", "File a new issue.", []string{"Title", "Labels"}, false,
		func(ctx context.Context, fields []string, body string) (string, error) {
			title := strings.TrimSpace(fields[0])
			if title == "" {
				return "", errors.New("an issue needs a title")
			}
			id, err := src.NewIssue(ctx, rid, NewIssue{Title: title, Body: body, Labels: splitCSV(fields[1])})
			if err != nil {
				return "", err
			}
			return "filed issue " + shortID(id), nil
		})
}

// newCommentForm comments on an issue, replying to comment replyTo when
// set.
func newCommentForm(c *common, rid, issue, replyTo, replyAuthor string) *form {
	src := c.src.Issues
	hint := "Comment on issue " + shortID(issue) + "."
	if replyTo != "" {
		hint = "Reply to " + replyAuthor + " (" + shortID(replyTo) + ") on issue " + shortID(issue) + "."
	}
	return newForm(c, "comment "+rid+" "+issue+" "+replyTo, "comment", hint, nil, true,
		func(ctx context.Context, _ []string, body string) (string, error) {
			if err := src.Comment(ctx, rid, issue, replyTo, body); err != nil {
				return "", err
			}
			return "comment added", nil
		})
}

// newReviewForm reviews a patch revision: a verdict with a body, or a
// comment on one line.
func newReviewForm(c *common, rid, patch string, r NewReview) *form {
	src := c.src.Patches
	hint := "Review revision " + shortID(r.Revision) + " of patch " + shortID(patch) + ": " + r.Verdict + "."
	if r.Path != "" {
		hint = "Comment on " + r.Path + ":" + itoa(r.Line) + " in revision " + shortID(r.Revision) + "."
	}
	key := fmt.Sprintf("review %s %s %s %s %s:%d", rid, patch, r.Revision, r.Verdict, r.Path, r.Line)
	return newForm(c, key, "review", hint, nil, r.Verdict == VerdictComment,
		func(ctx context.Context, _ []string, body string) (string, error) {
			r.Body = body
			if err := src.Review(ctx, rid, patch, r); err != nil {
				return "", err
			}
			return "review recorded", nil
		})
}

func (f *form) Init() tea.Cmd   { return nil }
func (f *form) Reload() tea.Cmd { return nil }
func (f *form) Title() string   { return f.title }
func (f *form) Typing() bool    { return true }

func (f *form) SetSize(w, h int) {
	f.w, f.h = w, h
	for i := range f.inputs {
		f.inputs[i].Width = max(w-12, 10)
	}
	f.body.SetWidth(max(w-2, 10))
	f.body.SetHeight(max(h-3-len(f.inputs), 3))
}

func (f *form) setFocus(i int) {
	f.focus = i
	for j := range f.inputs {
		if j == i {
			f.inputs[j].Focus()
		} else {
			f.inputs[j].Blur()
		}
	}
	if i == len(f.inputs) {
		f.body.Focus()
	} else {
		f.body.Blur()
	}
}

func (f *form) values() []string {
	out := make([]string, len(f.inputs))
	for i, in := range f.inputs {
		out[i] = in.Value()
	}
	return out
}

func (f *form) send() tea.Cmd {
	if f.needBody && strings.TrimSpace(f.body.Value()) == "" {
		f.err = errors.New("write something first")
		return nil
	}
	f.sending, f.err = true, nil
	fields, body := f.values(), f.body.Value()
	return f.c.load(f.id, func(ctx context.Context) tea.Msg {
		status, err := f.submit(ctx, fields, body)
		if err != nil {
			return formSentMsg{err}
		}
		return changedMsg{status}
	})
}

func (f *form) openEditor() tea.Cmd {
	if len(f.c.editor) == 0 {
		f.err = errors.New("no editor: set $VISUAL or $EDITOR")
		return nil
	}
	text := f.body.Value()
	return f.c.load(f.id, func(ctx context.Context) tea.Msg {
		tmp, err := os.CreateTemp("", "grove-*.md")
		if err != nil {
			return editorFileMsg{err: err}
		}
		_, err = tmp.WriteString(text)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		return editorFileMsg{path: tmp.Name(), err: err}
	})
}

func (f *form) Update(msg tea.Msg) (page, tea.Cmd) {
	k := f.c.keys
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != f.id {
			return f, nil
		}
		switch m := msg.msg.(type) {
		case changedMsg:
			// Sent: leave the form, then let the app reload what shows it.
			delete(f.c.drafts, f.draft)
			return f, tea.Batch(pop(), func() tea.Msg { return m })
		case formSentMsg:
			f.sending, f.err = false, m.err
		case editorFileMsg:
			if m.err != nil {
				f.err = m.err
				return f, nil
			}
			args := append(append([]string{}, f.c.editor[1:]...), m.path)
			cmd := exec.Command(f.c.editor[0], args...)
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
				return strings.HasPrefix(kv, "GROVE_PASSPHRASE=") // the editor has no use for it
			})
			id := f.id
			return f, tea.ExecProcess(cmd, func(err error) tea.Msg {
				return pageMsg{to: id, msg: editorDoneMsg{m.path, err}}
			})
		case editorDoneMsg:
			path, eerr := m.path, m.err
			return f, f.c.load(f.id, func(context.Context) tea.Msg {
				defer os.Remove(path)
				if eerr != nil {
					return editorTextMsg{err: eerr}
				}
				b, err := os.ReadFile(path)
				return editorTextMsg{text: string(b), err: err}
			})
		case editorTextMsg:
			if m.err != nil {
				f.err = m.err
				return f, nil
			}
			f.body.SetValue(strings.TrimRight(m.text, "\n"))
			f.setFocus(len(f.inputs))
		}
		return f, nil
	case tea.KeyMsg:
		if f.sending {
			return f, nil
		}
		switch {
		case key.Matches(msg, k.Leave):
			if f.keepDraft() {
				return f, func() tea.Msg { return popMsg{status: "draft kept: it is there when you open this again"} }
			}
			return f, pop()
		case key.Matches(msg, k.Submit):
			return f, f.send()
		case key.Matches(msg, k.Editor):
			return f, f.openEditor()
		case key.Matches(msg, k.NextField):
			f.setFocus((f.focus + 1) % (len(f.inputs) + 1))
			return f, nil
		case msg.String() == "shift+tab":
			f.setFocus((f.focus + len(f.inputs)) % (len(f.inputs) + 1))
			return f, nil
		case msg.String() == "enter" && f.focus < len(f.inputs):
			f.setFocus(f.focus + 1)
			return f, nil
		}
	}
	var cmd tea.Cmd
	if f.focus < len(f.inputs) {
		f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	} else {
		f.body, cmd = f.body.Update(msg)
	}
	return f, cmd
}

func (f *form) View() string {
	st := f.c.st
	lines := []string{" " + st.Bold.Render(f.hint)}
	for i := range f.inputs {
		mark := " "
		if i == f.focus {
			mark = st.Focus.Render("▸")
		}
		lines = append(lines, mark+f.inputs[i].View())
	}
	lines = append(lines, f.body.View())
	switch {
	case f.sending:
		lines = append(lines, " "+st.Dim.Render("sending…"))
	case f.err != nil:
		lines = append(lines, " "+st.Error.Render(f.err.Error()))
	default:
		lines = append(lines, " "+st.Dim.Render("markdown · ctrl+s to send · esc to leave (the draft is kept)"))
	}
	return strings.Join(lines, "\n")
}

func (f *form) ShortHelp() []key.Binding {
	k := f.c.keys
	return []key.Binding{k.Submit, k.Editor, k.NextField, k.Leave}
}

func (f *form) FullHelp() [][]key.Binding {
	k := f.c.keys
	return [][]key.Binding{{k.Submit, k.Editor, k.NextField, k.Leave}}
}
