package protocol

import "time"

// Every bound on what a peer controls, in one place: sizes, counts,
// rates and deadlines. The layers use these (repo, issues and sync keep
// their older names as aliases of them), and docs/SECURITY.md's "Limits"
// table is generated from LimitTable: TestSecurityDocLimits fails when the
// two differ (go test ./protocol -run TestSecurityDocLimits -update
// rewrites the table).
const (
	// MaxMessage bounds a FetchRequest, FetchResponse, UpdateRequest or
	// UpdateResponse.
	MaxMessage = 4 << 10
	// MaxAnnouncement bounds a gossip announcement.
	MaxAnnouncement = 4 << 10
	// MaxHeadsMessage bounds one HeadsMessage.
	MaxHeadsMessage = 2 << 20
	// MaxHeadsProjects bounds the projects in one HeadsMessage.
	MaxHeadsProjects = 1024
	// MaxHeads bounds the heads in one HeadsMessage, all projects together.
	MaxHeads = 16384
	// MaxUpdateBase bounds the tips an UpdateRequest's Base lists.
	MaxUpdateBase = 64
	// MaxUpdatePack bounds the pack of one update. Larger updates go
	// through a full fetch, which git negotiates.
	MaxUpdatePack = 8 << 20

	// DefaultMaxPack bounds the bytes one fetch may bring (a node's
	// Limits.MaxPack).
	DefaultMaxPack = 4 << 30
	// MaxObject bounds the inflated size of any one git object a peer
	// sends: a pack's bytes are bounded on the wire, and a small pack
	// can hold an object that inflates a thousandfold (or, as a delta,
	// without limit).
	MaxObject = 512 << 20

	// MaxRefs bounds the number of refs in one namespace's signed list.
	MaxRefs = 100_000
	// MaxRefName bounds the length of one ref name.
	MaxRefName = 1024
	// MaxRefList bounds the encoded size of a signed ref list.
	MaxRefList = 64 << 20
	// MaxTreeEntries bounds the entries of one tree object read from a
	// peer.
	MaxTreeEntries = MaxRefs
	// MaxIdentity bounds the size of an identity document, all the files
	// of its tree together.
	MaxIdentity = 1 << 20
	// MaxStrangerObjects and MaxStrangerBytes bound what a namespace
	// holds beyond the canonical branches (objects, bytes on disk) when
	// its owner is not a delegate and not followed: anyone may write
	// into a public project.
	MaxStrangerObjects = 100_000
	MaxStrangerBytes   = 256 << 20
	// MaxNamespaces bounds how many namespaces one fetch may bring.
	MaxNamespaces = 10_000
	// MaxIdentityChain bounds how many identity revisions are walked.
	MaxIdentityChain = 10_000
	// MaxSigrefsChain bounds how many sigrefs revisions are walked.
	MaxSigrefsChain = 1_000_000

	// MaxSignature bounds a signature blob read from a peer.
	MaxSignature = 1024

	// MaxChangeActions bounds the actions of one issue or patch change.
	MaxChangeActions = 1000
	// MaxActionsSize bounds the action JSON of one change.
	MaxActionsSize = 1 << 20
	// MaxAttachment bounds one attachment of a change.
	MaxAttachment = 8 << 20
	// MaxChangeEntries bounds the tree entries of one change.
	MaxChangeEntries = 256
	// MaxChangeCommit bounds the commit object of one change.
	MaxChangeCommit = 64 << 10
	// MaxChanges bounds the changes of one issue or patch.
	MaxChanges = 100_000
	// MaxObjectActions bounds the action JSON one issue or patch holds in
	// memory, all its changes together.
	MaxObjectActions = 32 << 20
	// MaxTitle, MaxBody, MaxLabel and MaxEmoji bound the fields every
	// kind of object shares; MaxPath and MaxLineComments a patch's;
	// MaxLinks the references one action carries. Actions beyond them
	// are skipped.
	MaxTitle        = 1024
	MaxBody         = 256 << 10
	MaxLabel        = 100
	MaxEmoji        = 64
	MaxPath         = 4096
	MaxLineComments = 1000
	MaxLinks        = 64

	// HeadsBurst and HeadsEvery bound how often one peer may ask for a
	// heads exchange: a burst, then one more per interval.
	HeadsBurst = 8
	HeadsEvery = 2 * time.Second
	// MaxHeadsServing and MaxHeadsPerPeer bound the heads exchanges a
	// node answers at once, in all and for one peer.
	MaxHeadsServing = 8
	MaxHeadsPerPeer = 2
	// HeadsTimeout bounds one heads exchange, either side.
	HeadsTimeout = 20 * time.Second
	// AnnounceBurst and AnnounceEvery bound how many fetches one peer's
	// gossip may start: a burst, then one per interval.
	AnnounceBurst = 32
	AnnounceEvery = time.Second
	// MaxWants bounds the namespaces being fetched or queued at once on
	// announcements, whoever sent them.
	MaxWants = 128
	// MaxLimitedPeers bounds the peers a rate limiter keeps a bucket for.
	MaxLimitedPeers = 4096
	// MaxServesPerPeer and MaxServes bound the git upload-packs a node
	// runs for fetches at once, for one peer and in all.
	MaxServesPerPeer = 4
	MaxServes        = 32
	// MaxUpdatePacks, UpdatePackBudget and MaxUpdateBuilds bound the
	// update packs a node keeps ready for peers (how many, their bytes
	// together) and builds at once; UpdatePackKeep how long one is kept
	// once made (the peers an announcement reaches ask within seconds; a
	// later one has it made again).
	MaxUpdatePacks   = 16
	UpdatePackBudget = 16 << 20
	MaxUpdateBuilds  = 2
	UpdatePackKeep   = time.Minute
	// UpdateTimeout bounds one update exchange, either side.
	UpdateTimeout = 30 * time.Second
	// MaxProviders bounds the provider records one DHT lookup takes
	// (anyone may put them, from any number of keys), and
	// ProviderLookupTimeout the lookup. ProviderDials bounds the
	// providers dialled at once to find those that answer, and
	// ProviderDialTimeout one such dial.
	MaxProviders          = 256
	ProviderLookupTimeout = 5 * time.Second
	ProviderDials         = 16
	ProviderDialTimeout   = 10 * time.Second
	// DefaultFetchTimeout bounds one fetch from one peer, and one serve.
	DefaultFetchTimeout = 10 * time.Minute
	// DefaultStallTimeout ends a fetch whose peer sends nothing that long.
	DefaultStallTimeout = time.Minute
	// DefaultRequestTimeout bounds how long a peer that opened a stream
	// may take to send its request.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultStrikes is how many bad answers a peer may give before it
	// is disconnected and refused.
	DefaultStrikes = 3
	// DefaultStrikeDecay forgives a peer one strike per this long.
	DefaultStrikeDecay = time.Hour
)

// Unit says how a Limit's value reads.
type Unit int

// Units of a Limit.
const (
	Count Unit = iota
	Bytes
	Duration
)

// Limit is one row of LimitTable: a constant above, what it bounds, and
// its value.
type Limit struct {
	Name  string // the constant's name in this package
	What  string
	Value int64
	Unit  Unit
}

// LimitTable lists every limit above, in the order docs/SECURITY.md
// shows them.
func LimitTable() []Limit {
	return []Limit{
		{"MaxMessage", "fetch and update requests and responses", MaxMessage, Bytes},
		{"MaxAnnouncement", "a gossip announcement", MaxAnnouncement, Bytes},
		{"MaxHeadsMessage", "a heads message", MaxHeadsMessage, Bytes},
		{"MaxHeadsProjects", "projects in a heads message", MaxHeadsProjects, Count},
		{"MaxHeads", "heads in a heads message", MaxHeads, Count},
		{"MaxUpdateBase", "base commits a first update names", MaxUpdateBase, Count},
		{"MaxUpdatePack", "an update pack", MaxUpdatePack, Bytes},
		{"DefaultMaxPack", "bytes one fetch may bring (`Limits.MaxPack`)", DefaultMaxPack, Bytes},
		{"MaxObject", "one object a fetch or update brings, inflated (refused before git inflates it)", MaxObject, Bytes},
		{"MaxRefs", "refs per namespace", MaxRefs, Count},
		{"MaxRefName", "one ref name", MaxRefName, Bytes},
		{"MaxRefList", "an encoded signed ref list", MaxRefList, Bytes},
		{"MaxTreeEntries", "entries of one ref tree", MaxTreeEntries, Count},
		{"MaxIdentity", "an identity document, its tree's files together", MaxIdentity, Bytes},
		{"MaxStrangerObjects", "objects a namespace neither a delegate's nor followed holds beyond the canonical branches (`Limits.MaxStrangerObjects`)", MaxStrangerObjects, Count},
		{"MaxStrangerBytes", "their bytes on disk (`Limits.MaxStrangerBytes`)", MaxStrangerBytes, Bytes},
		{"MaxNamespaces", "namespaces one fetch may bring", MaxNamespaces, Count},
		{"MaxIdentityChain", "identity revisions walked", MaxIdentityChain, Count},
		{"MaxSigrefsChain", "sigrefs revisions walked", MaxSigrefsChain, Count},
		{"MaxSignature", "a signature blob", MaxSignature, Bytes},
		{"MaxChangeCommit", "the commit of one issue or patch change", MaxChangeCommit, Bytes},
		{"MaxChangeActions", "actions in one change", MaxChangeActions, Count},
		{"MaxActionsSize", "action JSON of one change", MaxActionsSize, Bytes},
		{"MaxAttachment", "one attachment", MaxAttachment, Bytes},
		{"MaxChangeEntries", "tree entries of one change", MaxChangeEntries, Count},
		{"MaxChanges", "changes of one issue or patch", MaxChanges, Count},
		{"MaxObjectActions", "action JSON one issue or patch holds in memory (a blob many changes share is held once)", MaxObjectActions, Bytes},
		{"MaxTitle", "an issue or patch title (longer: the action is skipped)", MaxTitle, Bytes},
		{"MaxBody", "a body or comment", MaxBody, Bytes},
		{"MaxLabel", "a label", MaxLabel, Bytes},
		{"MaxEmoji", "a reaction", MaxEmoji, Bytes},
		{"MaxPath", "a path a patch review names", MaxPath, Bytes},
		{"MaxLineComments", "line comments of one review", MaxLineComments, Count},
		{"MaxLinks", "references one action carries", MaxLinks, Count},
		{"HeadsBurst", "heads exchanges one peer may ask for at once", HeadsBurst, Count},
		{"HeadsEvery", "then one more per", int64(HeadsEvery), Duration},
		{"MaxHeadsServing", "heads exchanges answered at once", MaxHeadsServing, Count},
		{"MaxHeadsPerPeer", "of them for one peer", MaxHeadsPerPeer, Count},
		{"HeadsTimeout", "one heads exchange", int64(HeadsTimeout), Duration},
		{"AnnounceBurst", "fetches one peer's announcements may start at once", AnnounceBurst, Count},
		{"AnnounceEvery", "then one more per", int64(AnnounceEvery), Duration},
		{"MaxWants", "namespaces fetched or queued on announcements, all peers", MaxWants, Count},
		{"MaxLimitedPeers", "peers a rate limiter keeps a bucket for", MaxLimitedPeers, Count},
		{"MaxServesPerPeer", "fetches served at once for one peer (`git upload-pack`s)", MaxServesPerPeer, Count},
		{"MaxServes", "fetches served at once in all", MaxServes, Count},
		{"MaxUpdatePacks", "update packs kept ready for peers", MaxUpdatePacks, Count},
		{"UpdatePackBudget", "their bytes together", UpdatePackBudget, Bytes},
		{"UpdatePackKeep", "each kept, at most, once made", int64(UpdatePackKeep), Duration},
		{"MaxUpdateBuilds", "update packs built at once", MaxUpdateBuilds, Count},
		{"UpdateTimeout", "one update exchange", int64(UpdateTimeout), Duration},
		{"MaxProviders", "provider records one DHT lookup takes", MaxProviders, Count},
		{"ProviderLookupTimeout", "one DHT lookup for providers", int64(ProviderLookupTimeout), Duration},
		{"ProviderDials", "providers dialled at once to find those that answer", ProviderDials, Count},
		{"ProviderDialTimeout", "one such dial", int64(ProviderDialTimeout), Duration},
		{"DefaultFetchTimeout", "one fetch, one serve (`Limits.FetchTimeout`)", int64(DefaultFetchTimeout), Duration},
		{"DefaultStallTimeout", "a fetch whose peer sends nothing (`Limits.StallTimeout`)", int64(DefaultStallTimeout), Duration},
		{"DefaultRequestTimeout", "a request on a stream a peer opened (`Limits.RequestTimeout`)", int64(DefaultRequestTimeout), Duration},
		{"DefaultStrikes", "strikes before a peer is refused (`Limits.Strikes`)", DefaultStrikes, Count},
		{"DefaultStrikeDecay", "one strike forgiven per (`Limits.StrikeDecay`)", int64(DefaultStrikeDecay), Duration},
	}
}
