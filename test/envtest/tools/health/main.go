// Command health tells how GitOps tools judge live objects, with their own code:
//
//	health kstatus          < objects.json  kstatus status.Compute (sigs.k8s.io/cli-utils), as
//	                                         `kubectl wait`-style tools, Flux and cli-utils appliers do
//	health argocd FILE.lua  < objects.json  an Argo CD resource health script, run in gopher-lua the way
//	                                         Argo CD runs a health customization from argocd-cm
//
// Input is one JSON object, a JSON array of objects, or a List (`items`). Output is one JSON result
// per object ({"status": ..., "message": ...}), as an array when the input held several.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: health kstatus | health argocd FILE.lua  (objects as JSON on stdin)")
	}
	objects, many, err := readObjects(os.Stdin)
	if err != nil {
		fail("reading objects: " + err.Error())
	}
	var judge func(map[string]interface{}) result
	switch os.Args[1] {
	case "kstatus":
		judge = kstatusOf
	case "argocd":
		if len(os.Args) != 3 {
			fail("usage: health argocd FILE.lua")
		}
		script, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail("reading script: " + err.Error())
		}
		judge = func(obj map[string]interface{}) result { return argoHealthOf(string(script), obj) }
	default:
		fail("unknown mode " + os.Args[1])
	}
	results := make([]result, 0, len(objects))
	for _, obj := range objects {
		results = append(results, judge(obj))
	}
	enc := json.NewEncoder(os.Stdout)
	if many {
		_ = enc.Encode(results)
	} else {
		_ = enc.Encode(results[0])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "health: "+msg)
	os.Exit(2)
}

func readObjects(r io.Reader) ([]map[string]interface{}, bool, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, false, err
	}
	// Whole numbers become int64, as when the API machinery decodes an object.
	var any interface{}
	if err := utiljson.Unmarshal(data, &any); err != nil {
		return nil, false, err
	}
	switch v := any.(type) {
	case []interface{}:
		return toObjects(v)
	case map[string]interface{}:
		if items, ok := v["items"].([]interface{}); ok {
			return toObjects(items)
		}
		return []map[string]interface{}{v}, false, nil
	}
	return nil, false, fmt.Errorf("expected an object, an array or a List")
}

func toObjects(items []interface{}) ([]map[string]interface{}, bool, error) {
	out := make([]map[string]interface{}, 0, len(items))
	for i, item := range items {
		obj, ok := item.(map[string]interface{})
		if !ok {
			return nil, false, fmt.Errorf("item %d is not an object", i)
		}
		out = append(out, obj)
	}
	return out, true, nil
}

func kstatusOf(obj map[string]interface{}) result {
	res, err := status.Compute(&unstructured.Unstructured{Object: obj})
	if err != nil {
		return result{Status: "Unknown", Error: err.Error()}
	}
	return result{Status: res.Status.String(), Message: res.Message}
}

// Argo CD runs health customizations from argocd-cm without Lua's standard libraries: only
// package, base, table and a reduced os are open, with a one-second budget.
var argoHealthCodes = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func argoHealthOf(script string, obj map[string]interface{}) result {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
		lua.OsLibName:   openReducedOs,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			return result{Status: "Unknown", Error: err.Error()}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return result{Status: "Unknown", Error: err.Error()}
	}
	returned, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return result{Status: "Unknown", Error: "the script did not return a table"}
	}
	code := lua.LVAsString(returned.RawGetString("status"))
	message := lua.LVAsString(returned.RawGetString("message"))
	if !argoHealthCodes[code] {
		return result{Status: "Unknown", Message: "Lua returned an invalid health status", Error: "invalid status " + code}
	}
	return result{Status: code, Message: message}
}

// openReducedOs opens os with only the functions that cannot reach outside the process.
func openReducedOs(l *lua.LState) int {
	lua.OpenOs(l)
	mod, ok := l.GetGlobal(lua.OsLibName).(*lua.LTable)
	if ok {
		for _, name := range []string{"execute", "exit", "getenv", "remove", "rename", "setenv", "tmpname", "setlocale"} {
			mod.RawSetString(name, lua.LNil)
		}
	}
	return 0
}

func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []interface{}:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
