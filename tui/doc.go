// Package tui is Grove's terminal UI, built with bubbletea: a project
// list, and per project tabs for issues, patches, code and peers, with
// issue and patch detail screens.
//
// The UI is a stack of pages (one model per screen) under a root Model
// that draws the breadcrumb and the help bar. Pages never do I/O in
// Update: they read and write through the interfaces in Source, from
// commands, and results come back as typed messages addressed to the page
// that asked. The root polls Projects.Stamp and reloads the open page when
// it moves, so data a running node lands shows up without a keypress.
//
// Styles are made by one lipgloss renderer passed in Options, so a plain
// terminal (or a test) gets plain text and no global state is touched.
package tui
