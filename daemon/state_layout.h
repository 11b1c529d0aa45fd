// The layout of the daemon's state in the store: every column family it writes, every key and
// key prefix, and the schema version with its history. The code that writes and reads a family
// takes its names from here (ModelCheckpoint, SessionState, Exploration, EventApplier), so this
// header is the whole map of a store. Key encodings (big-endian indices, row-part and offset
// keys) are state/keys.h's; the families themselves are state::Family (state/store.h).
//
//   family     key                                     value
//   ---------- --------------------------------------- -----------------------------------------
//   meta       schema_version, config_fingerprint      the store's own (state/keys.h meta::)
//   ids        'u' + IndexKey(user)                    the user's external id ("" once erased)
//              'i' + IndexKey(item)                    the item's external id
//   users      RowPartKey(user, part)                  one model's part of a user row
//   items      RowPartKey(item, part)                  one model's part of an item row
//   histories  IndexKey(user)                          the user's seen items (UserHistory)
//   model      kEventsApplied                          events applied (u64)
//              a Recommender's name ("mf", "bpr",      its globals (SaveGlobals)
//              "popular")
//              SessionModelKey(name)                   the session model's globals
//              kSessionClock                           sessions' event-time clock
//              kBanditPool, kBanditJoiner,             exploration's pool globals, reward-join
//              kBanditClock                            header and clock
//              kBanditJoinerRecord + kind + U64Key     one open served record or buffered click
//   bandits    IndexKey(item)                          an explored item's arm (once rewarded)
//   sessions   kImplicitSession + IndexKey(user)       a user's implicit session
//              kExplicitSession + session id           an explicit session
//   offsets    OffsetKey(topic, partition)             the next offset to consume
//
// A row part's `part` byte is the model's position in kRowParts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamrec::daemon::layout {

// Version of this layout (state::StateOptions::schema_version): a store written with another
// is refused at start-up. Bump it on every incompatible change, and add a line here:
//   1: the first layout.
//   2: row records gained the session model's part; kSessions holds sessions.
//   3: exploration (kBandits, bandit.* in kModel).
//   4: a kBandits record holds its arm only once a reward has moved it.
//   5: the reward joiner keeps a record per open entry (bandit.joiner/...) and bandit.joiner
//      holds only its header.
//   6: a row's parts are records of their own (RowPartKey: row index + part), written when
//      their model changed the row.
inline constexpr uint32_t kSchemaVersion = 6;

// --- ids ---
inline constexpr char kUserId = 'u';
inline constexpr char kItemId = 'i';

// --- users, items: the row parts, in this order (a record's part byte is the index) ---
enum class RowPart : uint8_t { kMF = 0, kBPR = 1, kPopularity = 2, kSessionModel = 3 };
inline constexpr size_t kRowParts = 4;

// --- model ---
inline constexpr std::string_view kEventsApplied = "events_applied";
// The session model's globals; the Recommenders' are under their own names.
inline std::string SessionModelKey(std::string_view name) { return "session." + std::string(name); }
inline constexpr std::string_view kSessionClock = "sessions.now_s";
inline constexpr std::string_view kBanditPool = "bandit.pool";
inline constexpr std::string_view kBanditJoiner = "bandit.joiner";
// One record per open served record or buffered click: this prefix, the kind byte ('s' or
// 'c'), then the record's sequence number (U64Key).
inline constexpr std::string_view kBanditJoinerRecord = "bandit.joiner/";
inline constexpr std::string_view kBanditClock = "bandit.clock";

// --- sessions ---
inline constexpr char kImplicitSession = 'u';
inline constexpr char kExplicitSession = 's';

}  // namespace streamrec::daemon::layout
