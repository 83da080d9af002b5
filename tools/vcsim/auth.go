package main

// auth.go: logins and the AuthorizationManager of a real vCenter, on the model of
// permissions.go.
//
// What it reproduces:
//   - each account logs in with its own password only (InvalidLogin otherwise); logins that
//     prove no password (LoginByToken, LoginExtensionByCertificate, LoginBySSPI) are refused;
//   - HasPrivilegeOnEntities / HasPrivilegeOnEntity answer for the session sessionId (the
//     caller's own, or any when the caller holds Sessions.ValidateSession on the root folder);
//     the caller needs System.Read on each entity passed;
//   - HasUserPrivilegeOnEntities / FetchUserPrivilegeOnEntities answer for a user by name; the
//     caller needs System.View on each entity passed; an object that is not an entity is
//     checked on the root folder (as the vSphere reference says);
//   - SetEntityPermissions (one permission per user or group: a new one replaces theirs),
//     ResetEntityPermissions, RemoveEntityPermission need Authorization.ModifyPermissions on
//     the entity; RetrieveEntityPermissions needs System.Read on it; RetrieveAllPermissions and
//     RetrieveRolePermissions list the permissions on entities the caller may read; role
//     changes need Authorization.ModifyRoles on the root folder. A change applies to the
//     affected users' next call.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// authorizationManager replaces the simulator's, keeping its roles and privileges.
type authorizationManager struct {
	simulator.AuthorizationManager // first: the simulator finds the mo type through field 0
}

// installAuthorizationManager puts ours in place and returns the roles it knows.
func installAuthorizationManager() []types.AuthorizationRole {
	content := simulator.Map.Get(serviceInstanceRef).(*simulator.ServiceInstance).Content
	orig := simulator.Map.Get(*content.AuthorizationManager).(*simulator.AuthorizationManager)
	m := &authorizationManager{AuthorizationManager: *orig}
	simulator.Map.Put(m)
	return append([]types.AuthorizationRole{}, m.RoleList...)
}

func fault(f types.BaseMethodFault) *soap.Fault { return simulator.Fault(faultMessage(f), f) }

func noPermission(ref types.ManagedObjectReference, priv string) *soap.Fault {
	return simulator.Fault(fmt.Sprintf("Permission to perform this operation was denied (%s on %s)", priv, ref), &types.NoPermission{Object: ref, PrivilegeId: priv})
}

func callerView(ctx *simulator.Context) *userView { return permissions.viewOf(ctx.Session.UserName) }

// target is the entity a privilege of ref is decided on: ref itself, or the root folder for
// objects that are not entities. A ref that names nothing is a ManagedObjectNotFound.
func target(view *userView, ref types.ManagedObjectReference) (types.ManagedObjectReference, *soap.Fault) {
	if simulator.Map.Get(ref) == nil {
		return ref, fault(&types.ManagedObjectNotFound{Obj: ref})
	}
	if _, known := view.of(ref); known {
		return ref, nil
	}
	if isEntityRef(ref) {
		return ref, nil // created after this view: hidden until the next one
	}
	return view.root, nil
}

// targets resolves refs and checks that the caller holds priv on each.
func targets(caller *userView, refs []types.ManagedObjectReference, priv string) ([]types.ManagedObjectReference, *soap.Fault) {
	resolved := make([]types.ManagedObjectReference, len(refs))
	for i, ref := range refs {
		t, f := target(caller, ref)
		if f != nil {
			return nil, f
		}
		if !caller.has(t, priv) {
			return nil, noPermission(t, priv)
		}
		resolved[i] = t
	}
	return resolved, nil
}

func availability(user *userView, entities, resolved []types.ManagedObjectReference, privIds []string) []types.EntityPrivilege {
	result := make([]types.EntityPrivilege, len(entities))
	for i, e := range entities {
		held := user.privileges(resolved[i])
		result[i] = types.EntityPrivilege{Entity: e, PrivAvailability: make([]types.PrivilegeAvailability, len(privIds))}
		for j, id := range privIds {
			result[i].PrivAvailability[j] = types.PrivilegeAvailability{PrivId: id, IsGranted: held[id]}
		}
	}
	return result
}

// sessionUser is the user of the session key, which the caller may ask about.
func sessionUser(ctx *simulator.Context, caller *userView, key string) (string, *soap.Fault) {
	if key == ctx.Session.Key {
		return ctx.Session.UserName, nil
	}
	if !caller.has(caller.root, privValidateSession) {
		return "", noPermission(caller.root, privValidateSession)
	}
	content := simulator.Map.Get(serviceInstanceRef).(*simulator.ServiceInstance).Content
	if sm, ok := ctx.Session.Get(*content.SessionManager).(*simulator.SessionManager); ok {
		for _, s := range sm.SessionList {
			if s.Key == key {
				return s.UserName, nil
			}
		}
	}
	return "", simulator.Fault("no session has that key", &types.InvalidArgument{InvalidProperty: "sessionId"})
}

func (m *authorizationManager) HasPrivilegeOnEntities(ctx *simulator.Context, req *types.HasPrivilegeOnEntities) soap.HasFault {
	body := &methods.HasPrivilegeOnEntitiesBody{}
	caller := callerView(ctx)
	resolved, f := targets(caller, req.Entity, privRead)
	if f == nil {
		var user string
		if user, f = sessionUser(ctx, caller, req.SessionId); f == nil {
			body.Res = &types.HasPrivilegeOnEntitiesResponse{Returnval: availability(permissions.viewOf(user), req.Entity, resolved, req.PrivId)}
		}
	}
	body.Fault_ = f
	return body
}

func (m *authorizationManager) HasPrivilegeOnEntity(ctx *simulator.Context, req *types.HasPrivilegeOnEntity) soap.HasFault {
	body := &methods.HasPrivilegeOnEntityBody{}
	caller := callerView(ctx)
	entities := []types.ManagedObjectReference{req.Entity}
	resolved, f := targets(caller, entities, privRead)
	if f == nil {
		var user string
		if user, f = sessionUser(ctx, caller, req.SessionId); f == nil {
			result := availability(permissions.viewOf(user), entities, resolved, req.PrivId)[0]
			granted := make([]bool, len(result.PrivAvailability))
			for i, a := range result.PrivAvailability {
				granted[i] = a.IsGranted
			}
			body.Res = &types.HasPrivilegeOnEntityResponse{Returnval: granted}
		}
	}
	body.Fault_ = f
	return body
}

func (m *authorizationManager) HasUserPrivilegeOnEntities(ctx *simulator.Context, req *types.HasUserPrivilegeOnEntities) soap.HasFault {
	body := &methods.HasUserPrivilegeOnEntitiesBody{}
	resolved, f := targets(callerView(ctx), req.Entities, privView)
	if f != nil {
		body.Fault_ = f
		return body
	}
	body.Res = &types.HasUserPrivilegeOnEntitiesResponse{Returnval: availability(permissions.viewOf(req.UserName), req.Entities, resolved, req.PrivId)}
	return body
}

func (m *authorizationManager) FetchUserPrivilegeOnEntities(ctx *simulator.Context, req *types.FetchUserPrivilegeOnEntities) soap.HasFault {
	body := &methods.FetchUserPrivilegeOnEntitiesBody{}
	resolved, f := targets(callerView(ctx), req.Entities, privView)
	if f != nil {
		body.Fault_ = f
		return body
	}
	user := permissions.viewOf(req.UserName)
	result := make([]types.UserPrivilegeResult, len(req.Entities))
	for i, e := range req.Entities {
		var privs []string
		for p := range user.privileges(resolved[i]) {
			privs = append(privs, p)
		}
		sort.Strings(privs)
		result[i] = types.UserPrivilegeResult{Entity: e, Privileges: privs}
	}
	body.Res = &types.FetchUserPrivilegeOnEntitiesResponse{Returnval: result}
	return body
}

// entityToChange checks that ref is an entity and that the caller may change its permissions.
func entityToChange(ctx *simulator.Context, ref types.ManagedObjectReference) *soap.Fault {
	if !isEntityRef(ref) {
		return fault(&types.ManagedObjectNotFound{Obj: ref})
	}
	if !callerView(ctx).has(ref, privModifyPermissions) {
		return noPermission(ref, privModifyPermissions)
	}
	return nil
}

func (m *authorizationManager) SetEntityPermissions(ctx *simulator.Context, req *types.SetEntityPermissions) soap.HasFault {
	body := &methods.SetEntityPermissionsBody{Fault_: entityToChange(ctx, req.Entity)}
	if body.Fault_ == nil {
		if f := permissions.setPermissions(req.Entity, req.Permission, false); f != nil {
			body.Fault_ = fault(f)
		} else {
			body.Res = &types.SetEntityPermissionsResponse{}
		}
	}
	return body
}

func (m *authorizationManager) ResetEntityPermissions(ctx *simulator.Context, req *types.ResetEntityPermissions) soap.HasFault {
	body := &methods.ResetEntityPermissionsBody{Fault_: entityToChange(ctx, req.Entity)}
	if body.Fault_ == nil {
		if f := permissions.setPermissions(req.Entity, req.Permission, true); f != nil {
			body.Fault_ = fault(f)
		} else {
			body.Res = &types.ResetEntityPermissionsResponse{}
		}
	}
	return body
}

func (m *authorizationManager) RemoveEntityPermission(ctx *simulator.Context, req *types.RemoveEntityPermission) soap.HasFault {
	body := &methods.RemoveEntityPermissionBody{Fault_: entityToChange(ctx, req.Entity)}
	if body.Fault_ == nil {
		if f := permissions.removePermission(req.Entity, req.User, req.IsGroup); f != nil {
			body.Fault_ = simulator.Fault(fmt.Sprintf("no permission of %q on %s", req.User, req.Entity), f)
		} else {
			body.Res = &types.RemoveEntityPermissionResponse{}
		}
	}
	return body
}

func (m *authorizationManager) RetrieveEntityPermissions(ctx *simulator.Context, req *types.RetrieveEntityPermissions) soap.HasFault {
	body := &methods.RetrieveEntityPermissionsBody{}
	switch {
	case !isEntityRef(req.Entity):
		body.Fault_ = fault(&types.ManagedObjectNotFound{Obj: req.Entity})
	case !callerView(ctx).has(req.Entity, privRead):
		body.Fault_ = noPermission(req.Entity, privRead)
	default:
		body.Res = &types.RetrieveEntityPermissionsResponse{Returnval: permissions.entityPermissions(req.Entity, req.Inherited)}
	}
	return body
}

func (m *authorizationManager) RetrieveAllPermissions(ctx *simulator.Context, req *types.RetrieveAllPermissions) soap.HasFault {
	caller := callerView(ctx)
	all := permissions.allPermissions(func(p types.Permission) bool { return caller.has(*p.Entity, privRead) })
	return &methods.RetrieveAllPermissionsBody{Res: &types.RetrieveAllPermissionsResponse{Returnval: all}}
}

func (m *authorizationManager) RetrieveRolePermissions(ctx *simulator.Context, req *types.RetrieveRolePermissions) soap.HasFault {
	caller := callerView(ctx)
	perms := permissions.allPermissions(func(p types.Permission) bool { return p.RoleId == req.RoleId && caller.has(*p.Entity, privRead) })
	return &methods.RetrieveRolePermissionsBody{Res: &types.RetrieveRolePermissionsResponse{Returnval: perms}}
}

// changeRoles runs one of the simulator's role methods for a caller holding
// Authorization.ModifyRoles on the root folder, then gives the model the new roles.
func (m *authorizationManager) changeRoles(ctx *simulator.Context, empty soap.HasFault, change func() soap.HasFault) soap.HasFault {
	caller := callerView(ctx)
	if !caller.has(caller.root, privModifyRoles) {
		reflect.ValueOf(empty).Elem().FieldByName("Fault_").Set(reflect.ValueOf(noPermission(caller.root, privModifyRoles)))
		return empty
	}
	res := change()
	if res.Fault() == nil {
		permissions.rolesChanged(m.RoleList)
	}
	return res
}

func (m *authorizationManager) AddAuthorizationRole(ctx *simulator.Context, req *types.AddAuthorizationRole) soap.HasFault {
	return m.changeRoles(ctx, &methods.AddAuthorizationRoleBody{}, func() soap.HasFault { return m.AuthorizationManager.AddAuthorizationRole(req) })
}

func (m *authorizationManager) UpdateAuthorizationRole(ctx *simulator.Context, req *types.UpdateAuthorizationRole) soap.HasFault {
	return m.changeRoles(ctx, &methods.UpdateAuthorizationRoleBody{}, func() soap.HasFault { return m.AuthorizationManager.UpdateAuthorizationRole(req) })
}

func (m *authorizationManager) RemoveAuthorizationRole(ctx *simulator.Context, req *types.RemoveAuthorizationRole) soap.HasFault {
	return m.changeRoles(ctx, &methods.RemoveAuthorizationRoleBody{}, func() soap.HasFault {
		for _, r := range m.RoleList {
			if r.RoleId == req.RoleId && r.System {
				return &methods.RemoveAuthorizationRoleBody{Fault_: simulator.Fault("system roles cannot be removed", &types.InvalidArgument{InvalidProperty: "roleId"})}
			}
		}
		if req.FailIfUsed && permissions.roleInUse(req.RoleId) {
			return &methods.RemoveAuthorizationRoleBody{Fault_: simulator.Fault("the role is used by a permission", &types.RemoveFailed{})}
		}
		return m.AuthorizationManager.RemoveAuthorizationRole(req)
	})
}

// loginGate checks logins before the simulator sees them: with -permissions the simulator
// itself accepts any login, and the accounts are checked here.
func loginGate(m *permissionModel, sdkPath string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, sdkPath) {
			body, err := io.ReadAll(r.Body)
			_ = r.Body.Close()
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte("Login")) {
				if method, err := simulator.UnmarshalBody(vimType, body); err == nil {
					switch req := method.Body.(type) {
					case *types.Login:
						if !m.checkPassword(req.UserName, req.Password) {
							writeFault(w, "Login failure", "InvalidLogin")
							return
						}
					case *types.LoginByToken, *types.LoginExtensionByCertificate, *types.LoginBySSPI:
						writeFault(w, "Login failure: only Login (user name and password) is supported with -permissions", "InvalidLogin")
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

var vimTypes = types.TypeFunc()

// vimType resolves a vim25 type name, with or without a namespace prefix.
func vimType(name string) (reflect.Type, bool) {
	if t, ok := vimTypes(name); ok {
		return t, true
	}
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return vimTypes(name[i+1:])
	}
	return nil, false
}

// writeFault answers a SOAP fault shaped like the simulator's own.
func writeFault(w http.ResponseWriter, message, kind string) {
	var text bytes.Buffer
	_ = xml.EscapeText(&text, []byte(message))
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring>`+
		`<detail><%sFault xmlns="urn:vim25" xsi:type="%s"></%sFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		text.String(), kind, kind, kind)
}
