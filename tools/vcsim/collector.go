package main

// collector.go: the PropertyCollector of a real vCenter, over the simulator's.
//
// What it reproduces:
//   - RetrievePropertiesEx pages like vCenter: with options.maxObjects it returns at most that
//     many objects and a token; ContinueRetrievePropertiesEx returns the next page (with a
//     token while more remain), CancelRetrievePropertiesEx discards the rest. A token belongs to
//     the session and the collector that made it. Results nobody comes back for are dropped
//     after pageTTL. This holds with and without -permissions.
//   - With -permissions, what a session's user may see (permissions.go): hidden objects are
//     left out (also when a traversal would reach them or go through them); view-only objects
//     carry only their System.View properties (viewProperties), every other requested property
//     is in missingSet with a NoPermission fault (privilegeId System.Read); Folder.childEntity
//     and ContainerView.view list only visible objects; ManagedEntity.effectiveRole and
//     .permission come from the model; a traversal spec applies only to objects of its type;
//     RetrieveProperties(Ex) without a session is refused (NotAuthenticated); a retrieval that
//     matches nothing has no returnval.
//
// Without -permissions the simulator's own collector answers (only paged here), so results
// are exactly what they were.

import (
	"crypto/rand"
	"encoding/hex"
	"reflect"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// collector replaces the ServiceContent's PropertyCollector (and every collector that
// CreatePropertyCollector makes). The simulator gives each session its own instance, made by
// reflection from this type: every field starts at its zero value.
type collector struct {
	simulator.PropertyCollector // first: the simulator finds the mo type through field 0

	mu      sync.Mutex // guards waiting
	waiting *waitState // WaitForUpdatesEx state with -permissions (updates.go)
}

// installCollector puts our collector in place of the simulator's.
func installCollector() {
	content := simulator.Map.Get(serviceInstanceRef).(*simulator.ServiceInstance).Content
	c := &collector{}
	c.Self = content.PropertyCollector
	simulator.Map.Put(c)
}

// viewProperties are the properties a user sees on a view-only entity (System.View), by type;
// every entity also shows "name", "parent" and "effectiveRole".
var viewProperties = map[string][]string{
	"Folder":                 {"childEntity", "childType"},
	"StoragePod":             {"childEntity", "childType"},
	"Datacenter":             {"vmFolder", "hostFolder", "datastoreFolder", "networkFolder"},
	"ComputeResource":        {"resourcePool"},
	"ClusterComputeResource": {"resourcePool"},
}

func isViewProperty(kind, path string) bool {
	switch path {
	case "name", "parent", "effectiveRole":
		return true
	}
	for _, p := range viewProperties[kind] {
		if p == path {
			return true
		}
	}
	return false
}

func viewPropertiesOf(kind string) []string {
	return append([]string{"name", "parent", "effectiveRole"}, viewProperties[kind]...)
}

func notAuthenticated(this types.ManagedObjectReference) *soap.Fault {
	return simulator.Fault("", &types.NotAuthenticated{NoPermission: types.NoPermission{Object: this, PrivilegeId: privView}})
}

func (c *collector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	body := &methods.RetrievePropertiesExBody{}
	if r.Options.MaxObjects < 0 {
		body.Fault_ = simulator.Fault("maxObjects must be positive", &types.InvalidArgument{InvalidProperty: "maxObjects"})
		return body
	}
	objects, fault := c.retrieve(ctx, r.This, r.SpecSet)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.RetrievePropertiesExResponse{Returnval: c.firstPage(ctx, objects, int(r.Options.MaxObjects))}
	return body
}

// RetrieveProperties is the deprecated, unpaged form.
func (c *collector) RetrieveProperties(ctx *simulator.Context, r *types.RetrieveProperties) soap.HasFault {
	if permissions == nil {
		return c.PropertyCollector.RetrieveProperties(ctx, r)
	}
	body := &methods.RetrievePropertiesBody{}
	objects, fault := c.retrieve(ctx, r.This, r.SpecSet)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.RetrievePropertiesResponse{Returnval: objects}
	return body
}

// retrieve answers a specSet: through the simulator's collector without -permissions, through
// the permission-aware traversal with them.
func (c *collector) retrieve(ctx *simulator.Context, this types.ManagedObjectReference, specs []types.PropertyFilterSpec) ([]types.ObjectContent, *soap.Fault) {
	if permissions == nil {
		res := c.PropertyCollector.RetrievePropertiesEx(ctx, &types.RetrievePropertiesEx{This: this, SpecSet: specs})
		if f := res.Fault(); f != nil {
			return nil, f
		}
		return res.(*methods.RetrievePropertiesExBody).Res.Returnval.Objects, nil
	}
	if ctx.Session == nil {
		return nil, notAuthenticated(this)
	}
	rt := newRetrieval(ctx, c, permissions.viewOf(ctx.Session.UserName))
	for _, spec := range specs {
		if fault := rt.add(spec); fault != nil {
			return nil, simulator.Fault(faultMessage(fault), fault)
		}
	}
	return rt.results, nil
}

func faultMessage(fault types.BaseMethodFault) string {
	if _, ok := fault.(*types.ManagedObjectNotFound); ok {
		return "The object has already been deleted or has not been completely created"
	}
	return ""
}

// retrieval collects one request's objects for one user.
type retrieval struct {
	ctx     *simulator.Context
	c       *collector
	view    *userView
	results []types.ObjectContent
	index   map[types.ManagedObjectReference]int
}

func newRetrieval(ctx *simulator.Context, c *collector, view *userView) *retrieval {
	return &retrieval{ctx: ctx, c: c, view: view, index: map[types.ManagedObjectReference]int{}}
}

type visit struct {
	ref  types.ManagedObjectReference
	spec *types.TraversalSpec
}

// add selects the objects of one PropertyFilterSpec and collects their properties.
func (rt *retrieval) add(spec types.PropertyFilterSpec) types.BaseMethodFault {
	var refs []types.ManagedObjectReference
	selected := map[types.ManagedObjectReference]bool{}
	include := func(ref types.ManagedObjectReference) {
		if !selected[ref] {
			selected[ref] = true
			refs = append(refs, ref)
		}
	}
	for _, o := range spec.ObjectSet {
		obj := rt.lookup(o.Obj)
		if obj == nil {
			if spec.ReportMissingObjectsInResults == nil || !*spec.ReportMissingObjectsInResults {
				return &types.ManagedObjectNotFound{Obj: o.Obj}
			}
			continue
		}
		if !rt.view.visible(o.Obj) {
			continue
		}
		if o.Skip == nil || !*o.Skip {
			include(o.Obj)
		}
		named := map[string]*types.TraversalSpec{}
		nameSpecs(o.SelectSet, named)
		if fault := rt.traverse(o.Obj, obj, o.SelectSet, named, map[visit]bool{}, include); fault != nil {
			return fault
		}
	}
	rt.collect(spec.PropSet, refs)
	return nil
}

func nameSpecs(set []types.BaseSelectionSpec, named map[string]*types.TraversalSpec) {
	for _, s := range set {
		if ts, ok := s.(*types.TraversalSpec); ok {
			if ts.Name != "" && named[ts.Name] == nil {
				named[ts.Name] = ts
				nameSpecs(ts.SelectSet, named)
			} else if ts.Name == "" {
				nameSpecs(ts.SelectSet, named)
			}
		}
	}
}

// traverse follows selectSet from ref, reading each path as the user may read it.
func (rt *retrieval) traverse(ref types.ManagedObjectReference, obj mo.Reference, set []types.BaseSelectionSpec,
	named map[string]*types.TraversalSpec, visited map[visit]bool, include func(types.ManagedObjectReference)) types.BaseMethodFault {
	for _, s := range set {
		ts, ok := s.(*types.TraversalSpec)
		if !ok {
			if ts = named[s.GetSelectionSpec().Name]; ts == nil {
				return &types.InvalidArgument{InvalidProperty: "undefined TraversalSpec name"}
			}
		}
		if !isOfType(ref, obj, ts.Type) || visited[visit{ref, ts}] {
			continue
		}
		visited[visit{ref, ts}] = true
		for _, next := range rt.refsAt(ref, ts.Path) {
			nextObj := rt.lookup(next)
			if nextObj == nil || !rt.view.visible(next) {
				continue
			}
			if ts.Skip == nil || !*ts.Skip {
				include(next)
			}
			if fault := rt.traverse(next, nextObj, ts.SelectSet, named, visited, include); fault != nil {
				return fault
			}
		}
	}
	return nil
}

// refsAt is the references held by a property the user may read on ref.
func (rt *retrieval) refsAt(ref types.ManagedObjectReference, path string) []types.ManagedObjectReference {
	if e, known := rt.view.of(ref); known && e.level == viewOnly && !isViewProperty(ref.Type, path) {
		return nil
	}
	contents := rt.read([]types.ManagedObjectReference{ref}, []types.PropertySpec{{Type: ref.Type, PathSet: []string{path}}})
	if len(contents) == 0 || len(contents[0].PropSet) == 0 {
		return nil
	}
	switch v := contents[0].PropSet[0].Val.(type) {
	case types.ManagedObjectReference:
		return []types.ManagedObjectReference{v}
	case *types.ArrayOfManagedObjectReference:
		return v.ManagedObjectReference
	}
	return nil
}

// lookup finds an object as the session sees it (its own views and collectors first).
func (rt *retrieval) lookup(ref types.ManagedObjectReference) mo.Reference {
	if rt.ctx.Session != nil {
		return rt.ctx.Session.Get(ref)
	}
	return simulator.Map.Get(ref)
}

// isOfType reports whether obj is a kind (its own type or one it extends, as
// ClusterComputeResource extends ComputeResource and every entity ManagedEntity).
func isOfType(ref types.ManagedObjectReference, obj mo.Reference, kind string) bool {
	if kind == "" || kind == ref.Type {
		return true
	}
	v := moStruct(obj)
	if !v.IsValid() {
		return false
	}
	if v.Type().Name() == kind {
		return true
	}
	f, ok := v.Type().FieldByName(kind)
	return ok && f.Anonymous
}

// read takes values from the simulator's own collector, which knows how to read every
// property path; what a user may see is decided here, around it.
func (rt *retrieval) read(refs []types.ManagedObjectReference, props []types.PropertySpec) []types.ObjectContent {
	if len(refs) == 0 {
		return nil
	}
	objects := make([]types.ObjectSpec, len(refs))
	for i, ref := range refs {
		objects[i] = types.ObjectSpec{Obj: ref}
	}
	res := rt.c.PropertyCollector.RetrievePropertiesEx(rt.ctx, &types.RetrievePropertiesEx{
		SpecSet: []types.PropertyFilterSpec{{PropSet: props, ObjectSet: objects, ReportMissingObjectsInResults: types.NewBool(true)}},
	})
	if res.Fault() != nil {
		return nil
	}
	return res.(*methods.RetrievePropertiesExBody).Res.Returnval.Objects
}

// collect reads the properties of refs (in their order) and merges them into the results.
func (rt *retrieval) collect(props []types.PropertySpec, refs []types.ManagedObjectReference) {
	var full []types.ManagedObjectReference
	partial := map[types.ManagedObjectReference]types.ObjectContent{}
	for _, ref := range refs {
		if e, known := rt.view.of(ref); known && e.level == viewOnly {
			if content, ok := rt.viewOnlyContent(ref, props); ok {
				partial[ref] = content
			}
			continue
		}
		full = append(full, ref)
	}
	byRef := make(map[types.ManagedObjectReference]types.ObjectContent, len(full))
	for _, content := range rt.read(full, props) {
		rt.rewrite(&content)
		byRef[content.Obj] = content
	}
	for _, ref := range refs {
		content, ok := byRef[ref]
		if !ok {
			if content, ok = partial[ref]; !ok {
				continue
			}
		}
		rt.merge(content)
	}
}

// viewOnlyContent is what a view-only entity shows of the requested properties.
func (rt *retrieval) viewOnlyContent(ref types.ManagedObjectReference, props []types.PropertySpec) (types.ObjectContent, bool) {
	obj := rt.lookup(ref)
	if obj == nil {
		return types.ObjectContent{}, false
	}
	var paths []string
	requested := map[string]bool{}
	matched := false
	for _, p := range props {
		if !isOfType(ref, obj, p.Type) {
			continue
		}
		matched = true
		names := p.PathSet
		if p.All != nil && *p.All {
			names = append(viewPropertiesOf(ref.Type), names...)
		}
		for _, name := range names {
			if !requested[name] {
				requested[name] = true
				paths = append(paths, name)
			}
		}
	}
	if !matched {
		return types.ObjectContent{}, false
	}
	content := types.ObjectContent{Obj: ref}
	contents := rt.read([]types.ManagedObjectReference{ref}, []types.PropertySpec{{Type: ref.Type, PathSet: paths}})
	if len(contents) == 1 {
		invalid := map[string]bool{}
		for _, m := range contents[0].MissingSet {
			invalid[m.Path] = true
			content.MissingSet = append(content.MissingSet, m)
		}
		for _, p := range contents[0].PropSet {
			if isViewProperty(ref.Type, p.Name) {
				content.PropSet = append(content.PropSet, p)
			}
		}
		for _, path := range paths {
			if !invalid[path] && !isViewProperty(ref.Type, path) {
				content.MissingSet = append(content.MissingSet, types.MissingProperty{
					Path:  path,
					Fault: types.LocalizedMethodFault{Fault: &types.NoPermission{Object: ref, PrivilegeId: privRead}},
				})
			}
		}
	}
	rt.rewrite(&content)
	return content, true
}

// rewrite puts the user's view into the values: only visible children and view members, the
// user's own effective role and the model's permissions.
func (rt *retrieval) rewrite(content *types.ObjectContent) {
	for i := range content.PropSet {
		p := &content.PropSet[i]
		switch {
		case p.Name == "childEntity" && (content.Obj.Type == "Folder" || content.Obj.Type == "StoragePod"),
			p.Name == "view" && content.Obj.Type == "ContainerView":
			if list, ok := p.Val.(*types.ArrayOfManagedObjectReference); ok {
				visible := make([]types.ManagedObjectReference, 0, len(list.ManagedObjectReference))
				for _, ref := range list.ManagedObjectReference {
					if rt.view.visible(ref) {
						visible = append(visible, ref)
					}
				}
				p.Val = &types.ArrayOfManagedObjectReference{ManagedObjectReference: visible}
			}
		case p.Name == "effectiveRole":
			if _, known := rt.view.of(content.Obj); known {
				p.Val = &types.ArrayOfInt{Int: rt.view.effectiveRole(content.Obj)}
			}
		case p.Name == "permission":
			if _, known := rt.view.of(content.Obj); known {
				p.Val = &types.ArrayOfPermission{Permission: permissions.permissionsOn(content.Obj)}
			}
		}
	}
}

// merge adds an object's content to the results, once per object across the filter specs.
func (rt *retrieval) merge(content types.ObjectContent) {
	i, ok := rt.index[content.Obj]
	if !ok {
		rt.index[content.Obj] = len(rt.results)
		rt.results = append(rt.results, content)
		return
	}
	existing := &rt.results[i]
	have := map[string]bool{}
	for _, p := range existing.PropSet {
		have[p.Name] = true
	}
	for _, m := range existing.MissingSet {
		have[m.Path] = true
	}
	for _, p := range content.PropSet {
		if !have[p.Name] {
			existing.PropSet = append(existing.PropSet, p)
		}
	}
	for _, m := range content.MissingSet {
		if !have[m.Path] {
			existing.MissingSet = append(existing.MissingSet, m)
		}
	}
}

// Paging.

const (
	pageTTL    = 10 * time.Minute // a result nobody continued for this long is dropped
	maxPending = 1000             // results kept at most; the oldest goes first
)

type pendingResult struct {
	session   string
	collector types.ManagedObjectReference
	rest      []types.ObjectContent
	pageSize  int
	lastUsed  time.Time
}

var pages = struct {
	sync.Mutex
	byToken map[string]*pendingResult
}{byToken: map[string]*pendingResult{}}

// firstPage returns the first maxObjects objects (all when maxObjects is 0) and keeps the rest
// under a token. Without a session (allowed only without -permissions) nothing is kept.
func (c *collector) firstPage(ctx *simulator.Context, objects []types.ObjectContent, maxObjects int) *types.RetrieveResult {
	if len(objects) == 0 && permissions != nil {
		return nil // vCenter sends no returnval when nothing matched
	}
	if maxObjects == 0 || len(objects) <= maxObjects || ctx.Session == nil {
		return &types.RetrieveResult{Objects: objects}
	}
	token := newToken()
	pages.Lock()
	defer pages.Unlock()
	sweepPages(time.Now())
	pages.byToken[token] = &pendingResult{
		session:   ctx.Session.Key,
		collector: c.Self,
		rest:      objects[maxObjects:],
		pageSize:  maxObjects,
		lastUsed:  time.Now(),
	}
	return &types.RetrieveResult{Token: token, Objects: objects[:maxObjects]}
}

func newToken() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// sweepPages drops expired results, then the oldest while over maxPending. pages is locked.
func sweepPages(now time.Time) {
	for token, p := range pages.byToken {
		if now.Sub(p.lastUsed) > pageTTL {
			delete(pages.byToken, token)
		}
	}
	for len(pages.byToken) >= maxPending {
		oldest := ""
		for token, p := range pages.byToken {
			if oldest == "" || p.lastUsed.Before(pages.byToken[oldest].lastUsed) {
				oldest = token
			}
		}
		delete(pages.byToken, oldest)
	}
}

// pending finds the result of token for this session and collector. pages is locked.
func (c *collector) pending(ctx *simulator.Context, token string) (*pendingResult, *soap.Fault) {
	sweepPages(time.Now())
	p := pages.byToken[token]
	switch {
	case p == nil:
		return nil, simulator.Fault("unknown or expired token", &types.InvalidArgument{InvalidProperty: "token"})
	case ctx.Session == nil || p.session != ctx.Session.Key:
		return nil, simulator.Fault("the token belongs to another session", &types.InvalidArgument{InvalidProperty: "token"})
	case p.collector != c.Self:
		return nil, simulator.Fault("the token belongs to another PropertyCollector", &types.InvalidArgument{InvalidProperty: "token"})
	}
	return p, nil
}

func (c *collector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pages.Lock()
	defer pages.Unlock()
	p, fault := c.pending(ctx, r.Token)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	result := types.RetrieveResult{}
	if len(p.rest) > p.pageSize {
		result.Objects, p.rest = p.rest[:p.pageSize], p.rest[p.pageSize:]
		result.Token = r.Token
		p.lastUsed = time.Now()
	} else {
		result.Objects = p.rest
		delete(pages.byToken, r.Token)
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: result}
	return body
}

func (c *collector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	body := &methods.CancelRetrievePropertiesExBody{}
	pages.Lock()
	defer pages.Unlock()
	if _, fault := c.pending(ctx, r.Token); fault != nil {
		body.Fault_ = fault
		return body
	}
	delete(pages.byToken, r.Token)
	body.Res = &types.CancelRetrievePropertiesExResponse{}
	return body
}

// CreatePropertyCollector makes collectors of our type, so they page and filter too.
func (c *collector) CreatePropertyCollector(ctx *simulator.Context, r *types.CreatePropertyCollector) soap.HasFault {
	created := &collector{}
	created.Self.Type = "PropertyCollector"
	return &methods.CreatePropertyCollectorBody{
		Res: &types.CreatePropertyCollectorResponse{Returnval: ctx.Session.Put(created).Reference()},
	}
}

// Fetch (undocumented; ovftool's) would read any property past the permission model: with
// -permissions it is refused. Its request type is internal to the simulator, hence interface{}.
func (c *collector) Fetch(ctx *simulator.Context, r interface{}) soap.HasFault {
	if permissions == nil {
		base := reflect.ValueOf(&c.PropertyCollector).MethodByName("Fetch")
		return base.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(r)})[0].Interface().(soap.HasFault)
	}
	return &methods.RetrievePropertiesBody{Fault_: simulator.Fault("Fetch is not supported with -permissions", &types.NotSupported{})}
}
