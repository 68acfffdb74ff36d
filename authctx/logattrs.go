package authctx

import (
	"errors"
	"log/slog"
)

func slogWorkspace(workspace string) slog.Attr { return slog.String("workspace", workspace) }

func slogGroup(group string) slog.Attr { return slog.String("group", group) }

func slogError(err error) slog.Attr { return slog.String("error", err.Error()) }

// levelFor logs an expected absence of a credential at debug level and every
// other failure as an error.
func levelFor(err error) slog.Level {
	if errors.Is(err, ErrNoCredential) {
		return slog.LevelDebug
	}
	return slog.LevelError
}
