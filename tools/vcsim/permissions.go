package main

// permissions.go: vCenter's permission model, which govmomi's simulator does not have.
//
// What it reproduces (vSphere's "Managing Permissions" and the AuthorizationManager reference):
//   - a permission is (entity, user or group, role, propagate); an entity holds at most one
//     permission per user and one per group;
//   - for an entity, the nearest object up its parent chain that carries a permission applying
//     to the user decides; on the entity itself every permission applies, on its ancestors only
//     those that propagate;
//   - on one object, the user's own permission beats their groups'; several group permissions
//     give the union of their roles' privileges;
//   - a virtual machine inherits through its folder chain (parent) and its resource pool chain
//     (resourcePool, parent pools, cluster, host folder, datacenter): with no permission on the
//     VM itself it holds the union of what the two chains give;
//   - an entity is readable when the user holds System.Read on it; one that is not readable but
//     is an ancestor (through either chain) of a readable entity is visible with its
//     System.View properties only (vCenter's implicit "View" role, id -3); the rest is hidden.
//
// The model lives in package state (the simulator makes per-session PropertyCollector
// instances by reflection, so a struct field would not be shared) behind one mutex; each
// user's view of the inventory is computed once per generation of the permissions, the roles
// and the inventory's shape, in time linear in the inventory.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Privileges the access rules are made of.
const (
	privAnonymous         = "System.Anonymous"
	privView              = "System.View"
	privRead              = "System.Read"
	privModifyPermissions = "Authorization.ModifyPermissions"
	privModifyRoles       = "Authorization.ModifyRoles"
	privValidateSession   = "Sessions.ValidateSession"

	// roleView is vCenter's system "View" role: what a user holds on the ancestors of what
	// they may read. Like "Anonymous", it cannot be granted.
	roleView      int32 = -3
	roleAnonymous int32 = -4
)

// permissionsFile is the -permissions JSON document.
type permissionsFile struct {
	Users       []fileUser       `json:"users"`
	Permissions []filePermission `json:"permissions"`
}

type fileUser struct {
	Name     string   `json:"name"`
	Password string   `json:"password"`
	Groups   []string `json:"groups"`
}

type filePermission struct {
	Entity    string `json:"entity"`
	Principal string `json:"principal"`
	Group     string `json:"group"`
	Role      string `json:"role"`
	Propagate *bool  `json:"propagate"`
}

type account struct {
	name     string
	password string
	groups   map[string]bool
}

// access is what a user may see of one entity.
type access uint8

const (
	hidden access = iota
	viewOnly
	readable
)

// grant is one decided set of roles and the privileges they add up to; grants are shared
// between entities (interned by their role ids).
type grant struct {
	roles []int32
	privs map[string]bool
}

// entityAccess is a user's access to one entity: its level and the privileges held on it
// (for a view-only entity: System.Anonymous and System.View).
type entityAccess struct {
	level access
	grant *grant
}

// userView is one user's access to every entity of one inventory generation.
type userView struct {
	generation, shape uint64
	entities          map[types.ManagedObjectReference]entityAccess
	root              types.ManagedObjectReference
	viewGrant         *grant
}

// node is one entity of the inventory snapshot: the parents it inherits through.
type node struct {
	self   types.ManagedObjectReference
	parent types.ManagedObjectReference // zero for the root folder
	pool   types.ManagedObjectReference // a VM's resource pool; zero otherwise
	name   string
}

type inventory struct {
	generation uint64
	root       types.ManagedObjectReference
	nodes      map[types.ManagedObjectReference]*node
}

// permissionModel holds the accounts, the permissions and the derived per-user views.
type permissionModel struct {
	mu          sync.Mutex
	admin       string
	accounts    map[string]*account
	permissions map[types.ManagedObjectReference][]types.Permission
	roles       map[int32]types.AuthorizationRole
	generation  uint64 // bumped when permissions or roles change
	inventory   *inventory
	views       map[string]*userView
	grants      map[string]*grant
}

// Bumped by the registry watcher (atomically: the simulator calls it while holding its own
// locks): shapeGeneration when entities appear, disappear or move; changeGeneration on any
// change at all (WaitForUpdatesEx waits on it).
var shapeGeneration, changeGeneration uint64

// permissions is nil unless vcsim runs with -permissions.
var permissions *permissionModel

func bumpShape()  { atomic.AddUint64(&shapeGeneration, 1); bumpChange() }
func bumpChange() { atomic.AddUint64(&changeGeneration, 1) }

// loadPermissions reads and checks a -permissions file against the inventory and the
// AuthorizationManager's roles. The administrator (-username) gets Admin on the root folder,
// propagating.
func loadPermissions(path, adminName, adminPassword string, roles []types.AuthorizationRole) (*permissionModel, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the permissions file: %v", err)
	}
	var file permissionsFile
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&file); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			line := 1 + bytes.Count(data[:syntax.Offset], []byte("\n"))
			return nil, fmt.Errorf("permissions file %s is not valid JSON (line %d): %v", path, line, err)
		}
		return nil, fmt.Errorf("permissions file %s is not valid: %v", path, err)
	}
	if decoder.More() {
		return nil, fmt.Errorf("permissions file %s is not valid: more than one JSON value", path)
	}

	m := &permissionModel{
		admin:       adminName,
		accounts:    map[string]*account{adminName: {name: adminName, password: adminPassword, groups: map[string]bool{}}},
		permissions: map[types.ManagedObjectReference][]types.Permission{},
		views:       map[string]*userView{},
		grants:      map[string]*grant{},
	}
	m.setRoles(roles)

	groups := map[string]bool{}
	for i, u := range file.Users {
		where := fmt.Sprintf("permissions file %s: users[%d]", path, i)
		switch {
		case u.Name == "":
			return nil, fmt.Errorf("%s: \"name\" is missing", where)
		case u.Password == "":
			return nil, fmt.Errorf("%s (%q): \"password\" is missing", where, u.Name)
		case u.Name == adminName:
			return nil, fmt.Errorf("%s: %q is the -username administrator; give the user another name", where, u.Name)
		case m.accounts[u.Name] != nil:
			return nil, fmt.Errorf("%s: user %q is listed twice", where, u.Name)
		}
		a := &account{name: u.Name, password: u.Password, groups: map[string]bool{}}
		for _, g := range u.Groups {
			if g == "" {
				return nil, fmt.Errorf("%s (%q): a group name is empty", where, u.Name)
			}
			a.groups[g] = true
			groups[g] = true
		}
		m.accounts[u.Name] = a
	}

	inv := m.currentInventory()
	root := inv.root
	m.permissions[root] = []types.Permission{{Entity: &root, Principal: adminName, RoleId: -1, Propagate: true}}

	for i, p := range file.Permissions {
		where := fmt.Sprintf("permissions file %s: permissions[%d] (entity %q)", path, i, p.Entity)
		ref, err := resolveEntity(inv, p.Entity)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		perm := types.Permission{Entity: &ref, Propagate: p.Propagate == nil || *p.Propagate}
		switch {
		case (p.Principal == "") == (p.Group == ""):
			return nil, fmt.Errorf("%s: give exactly one of \"principal\" and \"group\"", where)
		case p.Principal != "":
			if m.accounts[p.Principal] == nil {
				return nil, fmt.Errorf("%s: principal %q is neither a user of the file nor the administrator", where, p.Principal)
			}
			perm.Principal = p.Principal
		default:
			if !groups[p.Group] {
				return nil, fmt.Errorf("%s: no user is in group %q", where, p.Group)
			}
			perm.Principal, perm.Group = p.Group, true
		}
		role, ok := m.roleByName(p.Role)
		if !ok {
			return nil, fmt.Errorf("%s: unknown role %q (known: %s)", where, p.Role, strings.Join(m.grantableRoleNames(), ", "))
		}
		if role.RoleId == roleView || role.RoleId == roleAnonymous {
			return nil, fmt.Errorf("%s: role %q cannot be granted (as in vCenter)", where, p.Role)
		}
		perm.RoleId = role.RoleId
		for _, existing := range m.permissions[ref] {
			if existing.Principal == perm.Principal && existing.Group == perm.Group {
				return nil, fmt.Errorf("%s: %q already has a permission on this entity (vCenter allows one per user or group)", where, perm.Principal)
			}
		}
		m.permissions[ref] = append(m.permissions[ref], perm)
	}
	return m, nil
}

// resolveEntity finds an entity by inventory path ("/DC0/host/DC0_C0", as govc writes them)
// or by a name that exactly one entity has.
func resolveEntity(inv *inventory, spec string) (types.ManagedObjectReference, error) {
	if spec == "" {
		return types.ManagedObjectReference{}, fmt.Errorf("\"entity\" is missing")
	}
	if strings.HasPrefix(spec, "/") {
		if strings.Trim(spec, "/") == "" {
			return inv.root, nil
		}
		body := simulator.Map.SearchIndex().FindByInventoryPath(&types.FindByInventoryPath{InventoryPath: spec})
		if found := body.(*methods.FindByInventoryPathBody).Res.Returnval; found != nil {
			return *found, nil
		}
		return types.ManagedObjectReference{}, fmt.Errorf("no entity has that inventory path (paths look like /DC0/host/DC0_C0, /DC0/vm/DC0_C0_RP0_VM0, /DC0/datastore/LocalDS_0)")
	}
	var matches []*node
	for _, n := range inv.nodes {
		if n.name == spec {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return types.ManagedObjectReference{}, fmt.Errorf("no managed entity has that name")
	case 1:
		return matches[0].self, nil
	}
	paths := make([]string, 0, len(matches))
	for _, n := range matches {
		paths = append(paths, inv.path(n.self))
	}
	sort.Strings(paths)
	return types.ManagedObjectReference{}, fmt.Errorf("%d entities have that name (%s): use an inventory path", len(matches), strings.Join(paths, ", "))
}

// path is an entity's inventory path, for messages.
func (inv *inventory) path(ref types.ManagedObjectReference) string {
	var parts []string
	for n := inv.nodes[ref]; n != nil && n.self != inv.root; n = inv.nodes[n.parent] {
		parts = append([]string{n.name}, parts...)
	}
	return "/" + strings.Join(parts, "/")
}

func (m *permissionModel) setRoles(roles []types.AuthorizationRole) {
	m.roles = make(map[int32]types.AuthorizationRole, len(roles))
	for _, r := range roles {
		m.roles[r.RoleId] = r
	}
	m.grants = map[string]*grant{}
	m.generation++
}

func (m *permissionModel) roleByName(name string) (types.AuthorizationRole, bool) {
	for _, r := range m.roles {
		if r.Name == name {
			return r, true
		}
	}
	return types.AuthorizationRole{}, false
}

func (m *permissionModel) grantableRoleNames() []string {
	var names []string
	for id, r := range m.roles {
		if id != roleView && id != roleAnonymous {
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	return names
}

// checkPassword reports whether name/password is one of the accounts.
func (m *permissionModel) checkPassword(name, password string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[name]
	return a != nil && a.password == password
}

// currentInventory returns the snapshot of the inventory's shape, rebuilt when the watcher
// saw entities appear, disappear or move. The caller holds m.mu (or owns m).
func (m *permissionModel) currentInventory() *inventory {
	generation := atomic.LoadUint64(&shapeGeneration)
	if m.inventory != nil && m.inventory.generation == generation {
		return m.inventory
	}
	inv := &inventory{
		generation: generation,
		root:       simulator.Map.Get(rootFolderRef()).Reference(),
		nodes:      map[types.ManagedObjectReference]*node{},
	}
	for _, e := range simulator.Map.All("") {
		me := e.Entity()
		n := &node{self: me.Self, name: entityName(e)}
		if me.Parent != nil {
			n.parent = *me.Parent
		}
		if vm, ok := e.(*simulator.VirtualMachine); ok && vm.ResourcePool != nil {
			n.pool = *vm.ResourcePool
		}
		inv.nodes[n.self] = n
	}
	m.inventory = inv
	return inv
}

// entityName is an entity's name; networks and switches keep theirs in their own field.
func entityName(e mo.Entity) string {
	if name := e.Entity().Name; name != "" {
		return name
	}
	if v := moStruct(e); v.IsValid() {
		if f := v.FieldByName("Name"); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return ""
}

// moStruct digs the vim25/mo struct out of a registry object: the simulator's types embed
// it as their first field (simulator.VirtualMachine embeds mo.VirtualMachine), as do ours.
func moStruct(obj mo.Reference) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Ptr || v.IsNil() {
		return reflect.Value{}
	}
	v = v.Elem()
	for v.Kind() == reflect.Struct && !strings.HasSuffix(v.Type().PkgPath(), "/vim25/mo") {
		if v.NumField() == 0 {
			return reflect.Value{}
		}
		v = v.Field(0)
	}
	return v
}

func rootFolderRef() types.ManagedObjectReference {
	return simulator.Map.Get(serviceInstanceRef).(*simulator.ServiceInstance).Content.RootFolder
}

var serviceInstanceRef = types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}

// viewOf returns the user's access to every entity, recomputed when the permissions, the
// roles or the inventory's shape changed.
func (m *permissionModel) viewOf(user string) *userView {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.accounts[user] == nil {
		user = "" // every unknown name has no rights: one shared view, not one per name asked about
	}
	inv := m.currentInventory()
	if v := m.views[user]; v != nil && v.generation == m.generation && v.shape == inv.generation {
		return v
	}
	v := m.computeView(user, inv)
	v.generation, v.shape = m.generation, inv.generation
	m.views[user] = v
	return v
}

// computeView applies the inheritance rules to every entity of inv. The caller holds m.mu.
func (m *permissionModel) computeView(user string, inv *inventory) *userView {
	a := m.accounts[user]
	if a == nil {
		a = &account{groups: map[string]bool{}} // no account: no permission applies
	}
	v := &userView{
		entities:  make(map[types.ManagedObjectReference]entityAccess, len(inv.nodes)),
		root:      inv.root,
		viewGrant: m.internGrant([]int32{roleView}),
	}

	// inherited: what an entity passes down to its children (nil: no permission up the chain).
	inherited := make(map[types.ManagedObjectReference]*grant, len(inv.nodes)/4)
	var inheritedFrom func(ref types.ManagedObjectReference) *grant
	inheritedFrom = func(ref types.ManagedObjectReference) *grant {
		if ref.Value == "" {
			return nil
		}
		if g, ok := inherited[ref]; ok {
			return g
		}
		g := m.applicable(ref, a, true)
		if g == nil {
			if n := inv.nodes[ref]; n != nil {
				g = inheritedFrom(n.parent)
			}
		}
		inherited[ref] = g
		return g
	}

	for ref, n := range inv.nodes {
		g := m.applicable(ref, a, false)
		if g == nil {
			g = inheritedFrom(n.parent)
			if n.pool.Value != "" {
				g = m.union(g, inheritedFrom(n.pool))
			}
		}
		level := hidden
		if g != nil && g.privs[privRead] {
			level = readable
		}
		v.entities[ref] = entityAccess{level: level, grant: g}
	}

	// The ancestors of what the user may read are visible, through both chains.
	var markAncestors func(n *node)
	markAncestors = func(n *node) {
		for _, up := range [2]types.ManagedObjectReference{n.parent, n.pool} {
			if up.Value == "" {
				continue
			}
			e, ok := v.entities[up]
			if !ok || e.level != hidden {
				continue // readable ones mark their own ancestors; view-only ones are done
			}
			v.entities[up] = entityAccess{level: viewOnly, grant: v.viewGrant}
			if parent := inv.nodes[up]; parent != nil {
				markAncestors(parent)
			}
		}
	}
	for ref, e := range v.entities {
		if e.level == readable {
			markAncestors(inv.nodes[ref])
		}
	}
	return v
}

// applicable is the grant of the permissions on ref that apply to the user (only the
// propagating ones when ref is an ancestor), or nil when none does.
func (m *permissionModel) applicable(ref types.ManagedObjectReference, a *account, propagatingOnly bool) *grant {
	var groupRoles []int32
	for _, p := range m.permissions[ref] {
		if propagatingOnly && !p.Propagate {
			continue
		}
		if !p.Group && p.Principal == a.name {
			return m.internGrant([]int32{p.RoleId}) // the user's own permission wins
		}
		if p.Group && a.groups[p.Principal] {
			groupRoles = append(groupRoles, p.RoleId)
		}
	}
	if len(groupRoles) == 0 {
		return nil
	}
	return m.internGrant(groupRoles)
}

func (m *permissionModel) union(a, b *grant) *grant {
	switch {
	case a == nil:
		return b
	case b == nil || a == b:
		return a
	}
	return m.internGrant(append(append([]int32{}, a.roles...), b.roles...))
}

// internGrant returns the shared grant of a set of roles. The caller holds m.mu.
func (m *permissionModel) internGrant(roles []int32) *grant {
	sorted := append([]int32{}, roles...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	unique := sorted[:0]
	for i, id := range sorted {
		if i == 0 || id != sorted[i-1] {
			unique = append(unique, id)
		}
	}
	key := fmt.Sprint(unique)
	if g := m.grants[key]; g != nil {
		return g
	}
	g := &grant{roles: unique, privs: map[string]bool{}}
	for _, id := range unique {
		for _, p := range m.roles[id].Privilege {
			g.privs[p] = true
		}
	}
	m.grants[key] = g
	return g
}

// of is the user's access to ref. known is false for objects that are not entities of the
// snapshot (managers, views, tasks...), which every session may read.
func (v *userView) of(ref types.ManagedObjectReference) (e entityAccess, known bool) {
	e, known = v.entities[ref]
	return e, known
}

// visible reports whether the user may see ref at all.
func (v *userView) visible(ref types.ManagedObjectReference) bool {
	e, known := v.entities[ref]
	return !known || e.level != hidden
}

// privileges is the set of privileges the user holds on the entity ref (empty when hidden).
func (v *userView) privileges(ref types.ManagedObjectReference) map[string]bool {
	e, known := v.entities[ref]
	if !known || e.level == hidden || e.grant == nil {
		return nil
	}
	return e.grant.privs
}

// has reports whether the user holds priv on the entity ref.
func (v *userView) has(ref types.ManagedObjectReference, priv string) bool {
	return v.privileges(ref)[priv]
}

// effectiveRole is ManagedEntity.effectiveRole for the user: the roles that decided, or the
// View role on view-only ancestors.
func (v *userView) effectiveRole(ref types.ManagedObjectReference) []int32 {
	e, known := v.entities[ref]
	if !known || e.level == hidden || e.grant == nil {
		return nil
	}
	return append([]int32{}, e.grant.roles...)
}

// isEntityRef reports whether ref names a managed entity that exists.
func isEntityRef(ref types.ManagedObjectReference) bool {
	_, ok := simulator.Map.Get(ref).(mo.Entity)
	return ok
}

// permissionsOn returns copies of the permissions set on ref.
func (m *permissionModel) permissionsOn(ref types.ManagedObjectReference) []types.Permission {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]types.Permission{}, m.permissions[ref]...)
}

// knownPrincipal reports whether a user or group exists in the simulator's directory: the
// accounts and the groups they are in.
func (m *permissionModel) knownPrincipal(name string, group bool) bool {
	if !group {
		return m.accounts[name] != nil
	}
	for _, a := range m.accounts {
		if a.groups[name] {
			return true
		}
	}
	return false
}

// setPermissions is SetEntityPermissions (replace false: each permission replaces the one of
// the same user or group, others stay) and ResetEntityPermissions (replace true).
func (m *permissionModel) setPermissions(ref types.ManagedObjectReference, perms []types.Permission, replace bool) types.BaseMethodFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range perms {
		role, ok := m.roles[p.RoleId]
		if !ok || role.RoleId == roleView || role.RoleId == roleAnonymous {
			return &types.InvalidArgument{InvalidProperty: "roleId"}
		}
		if p.Principal == "" || !m.knownPrincipal(p.Principal, p.Group) {
			return &types.UserNotFound{Principal: p.Principal}
		}
	}
	var kept []types.Permission
	if !replace {
		for _, existing := range m.permissions[ref] {
			superseded := false
			for _, p := range perms {
				superseded = superseded || (p.Principal == existing.Principal && p.Group == existing.Group)
			}
			if !superseded {
				kept = append(kept, existing)
			}
		}
	}
	for _, p := range perms {
		entity := ref
		p.Entity = &entity
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		delete(m.permissions, ref)
	} else {
		m.permissions[ref] = kept
	}
	m.generation++
	bumpChange()
	return nil
}

// removePermission is RemoveEntityPermission.
func (m *permissionModel) removePermission(ref types.ManagedObjectReference, principal string, group bool) types.BaseMethodFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	var kept []types.Permission
	for _, p := range m.permissions[ref] {
		if p.Principal != principal || p.Group != group {
			kept = append(kept, p)
		}
	}
	if len(kept) == len(m.permissions[ref]) {
		return &types.NotFound{}
	}
	if len(kept) == 0 {
		delete(m.permissions, ref)
	} else {
		m.permissions[ref] = kept
	}
	m.generation++
	bumpChange()
	return nil
}

// rolesChanged takes the AuthorizationManager's role list after a role was added, changed or
// removed; permissions of a removed role go with it, as in vCenter.
func (m *permissionModel) rolesChanged(roles []types.AuthorizationRole) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setRoles(roles)
	for ref, perms := range m.permissions {
		var kept []types.Permission
		for _, p := range perms {
			if _, ok := m.roles[p.RoleId]; ok {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			delete(m.permissions, ref)
		} else {
			m.permissions[ref] = kept
		}
	}
	bumpChange()
}

// roleInUse reports whether a permission uses the role.
func (m *permissionModel) roleInUse(id int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, perms := range m.permissions {
		for _, p := range perms {
			if p.RoleId == id {
				return true
			}
		}
	}
	return false
}

// allPermissions lists every permission, sorted by entity then principal, filtered by keep.
func (m *permissionModel) allPermissions(keep func(types.Permission) bool) []types.Permission {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []types.Permission
	for _, perms := range m.permissions {
		for _, p := range perms {
			if keep(p) {
				all = append(all, p)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Entity.Value != b.Entity.Value {
			return a.Entity.Value < b.Entity.Value
		}
		if a.Group != b.Group {
			return !a.Group
		}
		return a.Principal < b.Principal
	})
	return all
}

// entityPermissions is RetrieveEntityPermissions: the permissions set on ref and, when
// inherited, those its ancestors pass down (both chains of a VM), nearest first.
func (m *permissionModel) entityPermissions(ref types.ManagedObjectReference, inherited bool) []types.Permission {
	m.mu.Lock()
	defer m.mu.Unlock()
	result := append([]types.Permission{}, m.permissions[ref]...)
	if !inherited {
		return result
	}
	inv := m.currentInventory()
	seen := map[types.ManagedObjectReference]bool{ref: true}
	queue := []types.ManagedObjectReference{}
	if n := inv.nodes[ref]; n != nil {
		queue = append(queue, n.parent, n.pool)
	}
	for len(queue) > 0 {
		up := queue[0]
		queue = queue[1:]
		if up.Value == "" || seen[up] {
			continue
		}
		seen[up] = true
		for _, p := range m.permissions[up] {
			if p.Propagate {
				result = append(result, p)
			}
		}
		if n := inv.nodes[up]; n != nil {
			queue = append(queue, n.parent)
		}
	}
	return result
}

// inventoryWatcher is a registry handler that tells the model the inventory changed.
type inventoryWatcher struct{}

var watcherRef = types.ManagedObjectReference{Type: "VscopeInventoryWatcher", Value: "inventory-watcher"}

func (inventoryWatcher) Reference() types.ManagedObjectReference { return watcherRef }

func (inventoryWatcher) PutObject(o mo.Reference) {
	if _, ok := o.(mo.Entity); ok {
		bumpShape()
	} else {
		bumpChange()
	}
}

func (inventoryWatcher) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	if _, ok := o.(mo.Entity); ok {
		for _, c := range changes {
			if c.Name == "parent" || c.Name == "resourcePool" {
				bumpShape()
				return
			}
		}
	}
	bumpChange()
}

func (inventoryWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if entityTypes[ref.Type] {
		bumpShape()
	} else {
		bumpChange()
	}
}

var entityTypes = map[string]bool{
	"Folder": true, "Datacenter": true, "ComputeResource": true, "ClusterComputeResource": true,
	"HostSystem": true, "ResourcePool": true, "VirtualApp": true, "VirtualMachine": true,
	"Datastore": true, "StoragePod": true, "Network": true, "OpaqueNetwork": true,
	"DistributedVirtualPortgroup": true, "DistributedVirtualSwitch": true, "VmwareDistributedVirtualSwitch": true,
}
