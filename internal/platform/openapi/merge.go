package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Merge combines documents into one, as the gateway serves them (mint dev serves every service behind
// one listener). The inputs are not changed. Everything is taken in order, so the result is the same on
// every run:
//   - a route or operationId two documents describe is kept from the first (services share /health);
//   - a component schema two documents define identically is kept once;
//   - a schema name two documents define differently is kept for the first and renamed Name_2, Name_3…
//     for the later one, whose references follow the new name, so no description is lost.
func Merge(title string, docs ...*Document) *Document {
	var versions, titles []string
	for _, d := range docs {
		if v, _ := d.info["version"].(string); !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
		if t, _ := d.info["title"].(string); t != "" {
			titles = append(titles, t)
		}
	}
	m := New(title, strings.Join(versions, ", "), "Combines: "+strings.Join(titles, ", ")+".")
	for _, d := range docs {
		m.merge(normalize(d.object()).(map[string]any))
	}
	return m
}

// merge adds one normalized document to d.
func (d *Document) merge(src map[string]any) {
	components := asObject(src["components"])
	schemas := asObject(components["schemas"])
	renames := d.schemaRenames(schemas)

	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		target := name
		if r, ok := renames[name]; ok {
			target = r
		}
		if _, kept := d.components["schemas"][target]; !kept {
			d.components["schemas"][target] = renameRefs(schemas[name], renames)
		}
	}
	for _, section := range slices.Sorted(maps.Keys(components)) {
		if section == "schemas" {
			continue
		}
		for name, obj := range asObject(components[section]) {
			d.component(section, name, func() map[string]any { return asObject(obj) })
		}
	}

	paths := asObject(src["paths"])
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		ops := asObject(paths[path])
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			if _, dup := d.paths[path][method]; dup {
				continue
			}
			op := asObject(renameRefs(ops[method], renames))
			if id, ok := op["operationId"].(string); ok {
				op["operationId"] = d.freeOperationID(id)
			}
			if d.paths[path] == nil {
				d.paths[path] = map[string]any{}
			}
			d.paths[path][method] = op
		}
	}

	tags, _ := src["tags"].([]any)
	for _, t := range tags {
		name, _ := asObject(t)["name"].(string)
		desc, _ := asObject(t)["description"].(string)
		if kept := d.tag(name); kept["description"] == nil && desc != "" {
			kept["description"] = desc
		}
	}
}

// schemaRenames decides which of src's schemas must take a new name: those whose name d already uses
// for different content. Content is compared after renaming its references, and renaming one schema
// can make another that refers to it differ, so the decision repeats until nothing changes.
func (d *Document) schemaRenames(src map[string]any) map[string]string {
	renames := map[string]string{}
	names := slices.Sorted(maps.Keys(src))
	for changed := true; changed; {
		changed = false
		for _, name := range names {
			existing, clash := d.components["schemas"][name]
			if _, done := renames[name]; done || !clash || sameJSON(existing, renameRefs(src[name], renames)) {
				continue
			}
			renames[name] = freeSchemaName(name, func(n string) bool {
				_, inD := d.components["schemas"][n]
				_, inSrc := src[n]
				return inD || inSrc || slices.Contains(slices.Collect(maps.Values(renames)), n)
			})
			changed = true
		}
	}
	return renames
}

func freeSchemaName(name string, taken func(string) bool) string {
	for i := 2; ; i++ {
		if n := fmt.Sprintf("%s_%d", name, i); !taken(n) {
			return n
		}
	}
}

func (d *Document) freeOperationID(id string) string {
	free := id
	for i := 2; d.opIDs[free]; i++ {
		free = fmt.Sprintf("%s_%d", id, i)
	}
	d.opIDs[free] = true
	return free
}

// renameRefs returns a copy of the normalized JSON value v with its schema references renamed.
func renameRefs(v any, renames map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if ref, ok := x.(string); ok && k == "$ref" {
				if name, ok := strings.CutPrefix(ref, schemaRef("")); ok && renames[name] != "" {
					x = schemaRef(renames[name])
				}
			}
			out[k] = renameRefs(x, renames)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = renameRefs(x, renames)
		}
		return out
	}
	return v
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func asObject(v any) map[string]any {
	o, _ := v.(map[string]any)
	if o == nil {
		return map[string]any{}
	}
	return o
}
