package authctx

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Detach returns a context that keeps every value of ctx, the credential and
// the product of the current operation included, but not its cancellation or
// deadline. Work that outlives the request, such as a write-behind or a usage
// report, needs it: with the request's own context it would be cancelled when
// the handler returns, and with a fresh context.Background() it would have no
// credential at all. Detach wraps [context.WithoutCancel]. A nil ctx is
// treated as [context.Background].
func Detach(ctx context.Context) context.Context {
	return context.WithoutCancel(orBackground(ctx))
}

// Go runs fn in a new goroutine with [Detach](ctx), so fn receives the
// caller's credential and product but is not cancelled with the caller. fn
// must bound its own work, for example with [context.WithTimeout]. A nil fn
// starts nothing.
func Go(ctx context.Context, fn func(ctx context.Context)) {
	if fn == nil {
		return
	}
	detached := Detach(ctx)
	go fn(detached)
}

// Group runs functions in goroutines, as [errgroup.Group] does, and passes each
// one the group's context, so every function receives the caller's credential
// explicitly instead of capturing or forgetting it. Create it with [NewGroup]
// or [WithGroup]. A zero Group passes [context.Background], which carries no
// credential. It is safe for concurrent use.
type Group struct {
	once  sync.Once
	group *errgroup.Group
	ctx   context.Context
}

// NewGroup returns a group whose functions receive ctx itself: its values,
// credential included, and its cancellation.
func NewGroup(ctx context.Context) *Group {
	return &Group{group: new(errgroup.Group), ctx: ctx}
}

// init makes a zero Group usable.
func (g *Group) init() {
	g.once.Do(func() {
		if g.group == nil {
			g.group = new(errgroup.Group)
		}
		if g.ctx == nil {
			g.ctx = context.Background()
		}
	})
}

// WithGroup returns a group and the context its functions receive, as
// [errgroup.WithContext] does: the context carries every value of ctx and is
// cancelled when a function returns an error, when Wait returns, or when ctx
// is. A nil ctx is treated as [context.Background].
func WithGroup(ctx context.Context) (*Group, context.Context) {
	g, groupCtx := errgroup.WithContext(orBackground(ctx))
	return &Group{group: g, ctx: groupCtx}, groupCtx
}

// Go calls fn with the group's context in a new goroutine, as
// [errgroup.Group.Go] does. A nil fn makes [Group.Wait] return an error.
func (g *Group) Go(fn func(ctx context.Context) error) {
	g.init()
	g.group.Go(g.bind(fn))
}

// TryGo is [Group.Go] unless the group's limit is reached. It reports whether
// fn was started, as [errgroup.Group.TryGo] does.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	g.init()
	return g.group.TryGo(g.bind(fn))
}

// bind returns fn called with the group's context.
func (g *Group) bind(fn func(ctx context.Context) error) func() error {
	if fn == nil {
		return func() error {
			return errors.New("authctx: Group.Go was given a nil function; pass the function to run")
		}
	}
	return func() error { return fn(g.ctx) }
}

// SetLimit limits the number of active goroutines, as
// [errgroup.Group.SetLimit] does.
func (g *Group) SetLimit(n int) {
	g.init()
	g.group.SetLimit(n)
}

// Wait waits for every function and returns the first error, as
// [errgroup.Group.Wait] does.
func (g *Group) Wait() error {
	g.init()
	return g.group.Wait()
}
