package main

import (
	"context"
	"log/slog"
)

// lazyAttrs keeps the attributes of Logger.With as they are and hands them to its inner handler only for a record
// that is logged: slog's own handlers format them the moment With is called, at any level.
type lazyAttrs struct {
	inner slog.Handler
	attrs []slog.Attr
}

func (h lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h lazyAttrs) Handle(ctx context.Context, record slog.Record) error {
	return h.bound().Handle(ctx, record)
}

func (h lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(h.attrs)+len(attrs))
	return lazyAttrs{inner: h.inner, attrs: append(append(kept, h.attrs...), attrs...)}
}

// WithGroup binds what is kept so far: attributes added before a group stay outside it.
func (h lazyAttrs) WithGroup(name string) slog.Handler {
	return lazyAttrs{inner: h.bound().WithGroup(name)}
}

func (h lazyAttrs) bound() slog.Handler {
	if len(h.attrs) == 0 {
		return h.inner
	}
	return h.inner.WithAttrs(h.attrs)
}
