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

package handler

import (
	"context"

	"github.com/FerretDB/wire"

	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// durableCommands are the commands that write; each answers only once its writes are durable
// (patch: not in upstream FerretDB; see backends.Database.Sync).
var durableCommands = []string{
	"collMod", "create", "createIndexes", "delete", "drop", "dropIndexes",
	"findAndModify", "findandmodify", "insert", "renameCollection", "update",
}

// durably wraps the handler of a command that writes: once it has succeeded, it waits until the
// database's committed writes are durable. The write lock (writelock.go) is released by then, so
// the next writer commits while this one waits, and one sync serves all of them (group commit).
func (h *Handler) durably(handle func(context.Context, *wire.OpMsg) (*wire.OpMsg, error)) func(context.Context, *wire.OpMsg) (*wire.OpMsg, error) {
	return func(ctx context.Context, msg *wire.OpMsg) (*wire.OpMsg, error) {
		res, err := handle(ctx, msg)
		if err != nil {
			return res, err
		}

		doc, err := msg.RawSection0().Decode()
		if err != nil {
			return nil, lazyerrors.Error(err)
		}

		name, _ := doc.Get("$db").(string)
		if name == "" {
			return res, nil // each of these commands fails without its database
		}

		db, err := h.b.Database(name)
		if err != nil {
			return nil, lazyerrors.Error(err)
		}

		if err = db.Sync(ctx); err != nil {
			return nil, lazyerrors.Error(err)
		}

		return res, nil
	}
}
