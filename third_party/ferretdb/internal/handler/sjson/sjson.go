// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// Package sjson provides converters from/to jsonb with some extensions for built-in and `types` types.
//
// See contributing guidelines and documentation for package `types` for details.
//
// # Mapping
//
// SJSON uses schema to map values to data types.
// Schema is stored in the `$s` field of the document and contains information about the fields.
// A document with schema looks like this:
//
//	{
//	   "$s": {
//	     "$k": ["field1", "field2", ...],
//	     "p": {
//	       "field1": {<schema>},
//	       "field2": {<schema>},
//	       ...
//	   }
//	   "field1": <json representation>,
//	   "field2": <json representation>,
//	   ...
//	}
//
// Composite types
//
//	Alias      types package    sjson schema                                             JSON representation
//
//	object     *types.Document  {"t":"object", "$s": {"$k":[<keys>], "p":{<properties>}} JSON object
//	array      *types.Array     {"t":"array", "i": [<item 1>, <item 2>]}                 JSON array
//
// Scalar types
//
//	Alias      types package    sjson schema                           JSON representation
//
//	double     float64          {"t":"double"}                         JSON number
//	string     string           {"t":"string"}                         JSON string
//	binData    types.Binary     {"t":"binData",
//	                             "s":<subtype number>}                 "<base 64 string>"
//	objectId   types.ObjectID   {"t":"objectId"}                       "<ObjectID as 24 character hex string>"
//	bool       bool             {"t":"bool"}                           JSON true / false values
//	date       time.Time        {"t":"date"}                           milliseconds since epoch as JSON number
//	null       types.NullType   {"t":"null"}                           JSON null
//	regex      types.Regex      {"t":"regex",
//	                             "o": "<string w/o terminating 0x0>"}  "<string w/o terminating 0x0>"
//	int        int32            {"t":"int"}                            JSON number
//	timestamp  types.Timestamp  {"t":"timestamp"}                      JSON number
//	long       int64            {"t":"long"}                           JSON number
//
//nolint:lll // for readability
package sjson
