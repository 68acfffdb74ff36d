package product

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContextRoundTrip(t *testing.T) {
	p, err := mustApp(t, "acme", "0.1.0").Product("mcp")
	require.NoError(t, err)

	got, ok := FromContext(NewContext(context.Background(), p))

	assert.True(t, ok)
	assert.Equal(t, p, got)
}

func TestContextEmpty(t *testing.T) {
	got, ok := FromContext(context.Background())

	assert.False(t, ok)
	assert.True(t, got.IsZero())
}

func TestContextInnerProductWins(t *testing.T) {
	app := mustApp(t, "acme", "0.1.0")
	outer, err := app.Product("crew")
	require.NoError(t, err)
	inner, err := app.Product("crew_gen")
	require.NoError(t, err)
	outerCtx := NewContext(context.Background(), outer)

	got, ok := FromContext(NewContext(outerCtx, inner))

	assert.True(t, ok)
	assert.Equal(t, inner, got)

	got, ok = FromContext(outerCtx)
	assert.True(t, ok)
	assert.Equal(t, outer, got, "the outer context keeps its product")
}

func TestContextZeroProductHidesOuter(t *testing.T) {
	outer := mustApp(t, "acme", "0.1.0").AsProduct()
	outerCtx := NewContext(context.Background(), outer)

	got, ok := FromContext(NewContext(outerCtx, Product{}))

	assert.False(t, ok)
	assert.True(t, got.IsZero())
}

func TestContextNil(t *testing.T) {
	p := mustApp(t, "acme", "0.1.0").AsProduct()

	//lint:ignore SA1012 a nil context is the input under test
	got, ok := FromContext(nil)
	assert.False(t, ok)
	assert.True(t, got.IsZero())

	//lint:ignore SA1012 a nil context is the input under test
	ctx := NewContext(nil, p)
	require.NotNil(t, ctx)
	got, ok = FromContext(ctx)
	assert.True(t, ok)
	assert.Equal(t, p, got)
}

func TestContextKeepsCancellation(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx := NewContext(parent, mustApp(t, "acme", "0.1.0").AsProduct())

	cancel()

	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}
