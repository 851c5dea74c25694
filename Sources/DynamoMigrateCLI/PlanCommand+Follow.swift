import ArgumentParser
import Pipeline

/// `plan --follow [--enable-streams]`: what `migrate --follow` needs, next to the copy's plan.
struct PlanFollowOptions: ParsableArguments {
    @Flag(
        help: """
            Also plan migrate --follow: each source's stream, the copy's estimated time against the \
            streams' 24-hour window, and whether each merged target can be followed exactly.
            """)
    var follow = false

    @Flag(
        name: .customLong("enable-streams"),
        help: "With --follow: migrate would be given --enable-streams, so a source without a stream is a change it makes, not a problem.")
    var enableStreams = false

    func validate() throws {
        if enableStreams && !follow { throw ValidationError("--enable-streams only means something with --follow") }
    }

    /// These options in `options`.
    func apply(to options: inout PlanOptions) {
        options.follow = follow
        options.enableStreams = enableStreams
    }
}
