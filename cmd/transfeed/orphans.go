package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/transfeed/transfeed/store"
)

// claimStore is what reclaimOrphans needs; *store.Store implements it.
type claimStore interface {
	ClaimHolders(ctx context.Context, now time.Time) ([]string, error)
	ReleaseOwner(ctx context.Context, owner string) (int64, error)
}

var _ claimStore = (*store.Store)(nil)

// reclaimOrphans hands back, at start, the claims of earlier processes of
// this machine that are gone (killed, crashed): without it their posts and
// deliveries wait out the lease. Owners are instanceName()s, "host-pid";
// only this host's are judged, and a claim under this very pid (a
// container restarting as pid 1) is an earlier process's too, since this
// one has claimed nothing yet. Used with SQLite only, where every process
// sharing the database runs on this machine.
func reclaimOrphans(ctx context.Context, st claimStore, self string, alive func(pid int) bool, log *slog.Logger) {
	host, _, ok := splitOwner(self)
	if !ok {
		return
	}
	holders, err := st.ClaimHolders(ctx, time.Now())
	if err != nil {
		log.Warn("looking for claims of stopped processes failed", slog.Any("error", err))
		return
	}
	for _, o := range holders {
		h, pid, ok := splitOwner(o)
		if !ok || h != host || (o != self && alive(pid)) {
			continue
		}
		n, err := st.ReleaseOwner(ctx, o)
		if err != nil {
			log.Warn("handing back claims of a stopped process failed", slog.String("owner", o), slog.Any("error", err))
			continue
		}
		log.Info("took back the claims of a stopped process", slog.String("owner", o), slog.Int64("claims", n))
	}
}

// splitOwner splits "host-pid".
func splitOwner(o string) (host string, pid int, ok bool) {
	i := strings.LastIndexByte(o, '-')
	if i <= 0 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(o[i+1:])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return o[:i], pid, true
}
