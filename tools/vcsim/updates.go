package main

// updates.go: WaitForUpdatesEx, WaitForUpdates and CheckForUpdates as vCenter answers a user.
//
// With -permissions the simulator's own update loop would report every object, so each
// filter's objects are recomputed through the permission-aware retrieval (collector.go)
// whenever anything changed (an object, a permission, a role), and compared with what this
// collector last told the client: new or newly visible objects enter, changed properties are
// modified (assign), objects that went away or became hidden leave. Version "" starts over
// and answers at once; options.maxWaitSeconds (0: answer at once; unset: wait until something
// changes) and options.maxObjectUpdates (the rest comes with the next call, truncated=true)
// are honoured; CancelWaitForUpdates ends a wait with RequestCanceled.
//
// Without -permissions the simulator's collector answers, as before.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// waitState is what one collector told its client. collector.mu guards it.
type waitState struct {
	version int
	known   map[types.ManagedObjectReference]map[types.ManagedObjectReference]map[string]string // filter -> object -> property -> JSON
	cancel  context.CancelFunc
}

const updatePoll = 250 * time.Millisecond

// stopping is closed when vcsim stops: waits end at once rather than hold the server open.
var stopping = make(chan struct{})

func (c *collector) WaitForUpdatesEx(ctx *simulator.Context, r *types.WaitForUpdatesEx) soap.HasFault {
	if permissions == nil {
		return c.PropertyCollector.WaitForUpdatesEx(ctx, r)
	}
	body := &methods.WaitForUpdatesExBody{}
	maxWait, maxUpdates := -1, 0
	if r.Options != nil {
		if r.Options.MaxWaitSeconds != nil {
			maxWait = int(*r.Options.MaxWaitSeconds)
		}
		maxUpdates = int(r.Options.MaxObjectUpdates)
	}
	set, fault := c.waitForUpdates(ctx, r.Version, maxWait, maxUpdates)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.WaitForUpdatesExResponse{Returnval: set}
	return body
}

// WaitForUpdates is the deprecated form: it waits until something changes.
func (c *collector) WaitForUpdates(ctx *simulator.Context, r *types.WaitForUpdates) soap.HasFault {
	if permissions == nil {
		return c.PropertyCollector.WaitForUpdates(ctx, r)
	}
	body := &methods.WaitForUpdatesBody{}
	set, fault := c.waitForUpdates(ctx, r.Version, -1, 0)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.WaitForUpdatesResponse{Returnval: *set}
	return body
}

// CheckForUpdates is the deprecated form that never waits (no returnval: nothing changed).
func (c *collector) CheckForUpdates(ctx *simulator.Context, r *types.CheckForUpdates) soap.HasFault {
	body := &methods.CheckForUpdatesBody{}
	if permissions == nil { // the simulator has no CheckForUpdates
		body.Fault_ = simulator.Fault(fmt.Sprintf("%s does not implement: CheckForUpdates", r.This), &types.MethodNotFound{Receiver: r.This, Method: "CheckForUpdates"})
		return body
	}
	set, fault := c.waitForUpdates(ctx, r.Version, 0, 0)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.CheckForUpdatesResponse{Returnval: set}
	return body
}

func (c *collector) CancelWaitForUpdates(r *types.CancelWaitForUpdates) soap.HasFault {
	c.cancelWait()
	return c.PropertyCollector.CancelWaitForUpdates(r)
}

func (c *collector) DestroyPropertyCollector(ctx *simulator.Context, r *types.DestroyPropertyCollector) soap.HasFault {
	c.cancelWait()
	return c.PropertyCollector.DestroyPropertyCollector(ctx, r)
}

func (c *collector) cancelWait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting != nil && c.waiting.cancel != nil {
		c.waiting.cancel()
	}
}

// waitForUpdates returns the next update set, or nil when maxWait seconds passed with no
// change (maxWait < 0: wait as long as it takes).
func (c *collector) waitForUpdates(ctx *simulator.Context, version string, maxWait, maxUpdates int) (*types.UpdateSet, *soap.Fault) {
	wait, cancel := context.WithCancel(context.Background())
	if maxWait > 0 {
		wait, cancel = context.WithTimeout(context.Background(), time.Duration(maxWait)*time.Second)
	}
	defer cancel()
	c.mu.Lock()
	if c.waiting == nil {
		c.waiting = &waitState{}
	}
	w := c.waiting
	if w.cancel != nil {
		w.cancel() // one wait per collector: a new one ends the previous
	}
	w.cancel = cancel
	if version == "" || w.known == nil {
		w.known = map[types.ManagedObjectReference]map[types.ManagedObjectReference]map[string]string{}
	}
	c.mu.Unlock()

	ticker := time.NewTicker(updatePoll)
	defer ticker.Stop()
	seen := ^uint64(0)
	for {
		if generation := atomic.LoadUint64(&changeGeneration); generation != seen {
			seen = generation
			c.mu.Lock()
			set, fault := c.diff(ctx, w, maxUpdates)
			if fault == nil && (len(set.FilterSet) > 0 || version == "") {
				w.version++
				set.Version = strconv.Itoa(w.version)
			}
			c.mu.Unlock()
			if fault != nil {
				return nil, simulator.Fault(faultMessage(fault), fault)
			}
			if set.Version != "" {
				return set, nil
			}
		}
		if maxWait == 0 {
			return nil, nil
		}
		select {
		case <-stopping:
			return nil, nil
		case <-wait.Done():
			if wait.Err() == context.Canceled {
				return nil, simulator.Fault("", &types.RequestCanceled{})
			}
			return nil, nil
		case <-ticker.C:
		}
	}
}

// diff compares each filter's objects, as the user may see them now, with what was sent, and
// records what it reports. collector.mu is held.
func (c *collector) diff(ctx *simulator.Context, w *waitState, maxUpdates int) (*types.UpdateSet, types.BaseMethodFault) {
	view := permissions.viewOf(ctx.Session.UserName)
	set := &types.UpdateSet{}
	reported := 0
	room := func() bool {
		if maxUpdates > 0 && reported >= maxUpdates {
			set.Truncated = types.NewBool(true)
			return false
		}
		reported++
		return true
	}
	live := map[types.ManagedObjectReference]bool{}
	for _, ref := range c.Filter {
		filter, ok := ctx.Session.Get(ref).(*simulator.PropertyFilter)
		if !ok {
			continue
		}
		live[ref] = true
		rt := newRetrieval(ctx, c, view)
		if fault := rt.add(filter.Spec); fault != nil {
			return nil, fault
		}
		known := w.known[ref]
		if known == nil {
			known = map[types.ManagedObjectReference]map[string]string{}
			w.known[ref] = known
		}
		update := types.PropertyFilterUpdate{Filter: ref}
		current := map[types.ManagedObjectReference]bool{}
		for _, content := range rt.results {
			current[content.Obj] = true
			values := encodeProperties(content.PropSet)
			before, had := known[content.Obj]
			change := types.ObjectUpdate{Obj: content.Obj, Kind: types.ObjectUpdateKindModify}
			if !had {
				change.Kind = types.ObjectUpdateKindEnter
				change.MissingSet = content.MissingSet
			}
			for _, p := range content.PropSet {
				if !had || before[p.Name] != values[p.Name] {
					change.ChangeSet = append(change.ChangeSet, types.PropertyChange{Name: p.Name, Op: types.PropertyChangeOpAssign, Val: p.Val})
				}
			}
			for name := range before {
				if _, still := values[name]; !still {
					change.ChangeSet = append(change.ChangeSet, types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign})
				}
			}
			if had && len(change.ChangeSet) == 0 {
				continue
			}
			if !room() {
				continue
			}
			known[content.Obj] = values
			update.ObjectSet = append(update.ObjectSet, change)
		}
		var gone []types.ManagedObjectReference
		for obj := range known {
			if !current[obj] {
				gone = append(gone, obj)
			}
		}
		sort.Slice(gone, func(i, j int) bool { return gone[i].Value < gone[j].Value })
		for _, obj := range gone {
			if !room() {
				break
			}
			delete(known, obj)
			update.ObjectSet = append(update.ObjectSet, types.ObjectUpdate{Obj: obj, Kind: types.ObjectUpdateKindLeave})
		}
		if len(update.ObjectSet) > 0 {
			set.FilterSet = append(set.FilterSet, update)
		}
	}
	for ref := range w.known {
		if !live[ref] {
			delete(w.known, ref)
		}
	}
	return set, nil
}

// encodeProperties gives each value a comparable form: the values point into live objects, so
// only a copy of their contents tells whether they changed.
func encodeProperties(props []types.DynamicProperty) map[string]string {
	values := make(map[string]string, len(props))
	for _, p := range props {
		data, err := json.Marshal(p.Val)
		if err != nil {
			data = []byte(err.Error())
		}
		values[p.Name] = string(data)
	}
	return values
}
