"""The list of every write path of the data layer, with the cached read each one must be seen by."""

from __future__ import annotations

from tests.caching.write_paths import (
    HOUR,
    MEMBER,
    MOD,
    WritePath,
    activity,
    afk,
    afk_data,
    alias,
    banned,
    case,
    case_data,
    case_id,
    config,
    configured,
    ensure,
    levels,
    log_channels,
    message_state,
    moderation,
    prefix,
    raw,
    rewards,
    snippet,
    snippet_id,
    starboard,
    status,
    status_data,
    then,
    with_afk,
    with_case,
    with_levels,
    with_levels_config,
    with_snippet,
    with_starboard,
    with_status,
)
from tux.database.models import utcnow

WRITE_PATHS: list[WritePath] = [
    # guild config
    WritePath("guild_configs.create", prefix, lambda db, g: db.guild_configs.create({"id": g}), ensure),
    WritePath(
        "guild_configs.update", config, lambda db, g: db.guild_configs.update(g, {"prefix": "b"}), configured
    ),
    WritePath("guild_configs.delete", config, lambda db, g: db.guild_configs.delete(g), configured),
    WritePath(
        "guild_configs.upsert",
        prefix,
        lambda db, g: raw(db.guild_configs).upsert({"id": g, "prefix": "u"}),
        ensure,
    ),
    WritePath(
        "guild_configs.upsert_config",
        prefix,
        lambda db, g: db.guild_configs.upsert_config(g, {"prefix": "!"}),
    ),
    WritePath(
        "guild_configs.upsert_config (settings)",
        log_channels,
        lambda db, g: db.guild_configs.upsert_config(g, {"mod_log_id": 5}),
        configured,
    ),
    WritePath("guild_setup.onboard", prefix, lambda db, g: db.guild_setup.onboard(g, prefix="~")),
    WritePath("guilds.delete", config, lambda db, g: db.guilds.delete(g), configured),
    # member status, directly and through every moderation action
    WritePath(
        "member_status.set_status",
        status,
        lambda db, g: db.member_status.set_status(g, MEMBER, {"is_banned": True}),
    ),
    WritePath("member_status.create", status, lambda db, g: db.member_status.create(status_data(g)), ensure),
    WritePath(
        "member_status.update",
        status,
        lambda db, g: db.member_status.update((g, MEMBER), {"is_jailed": True}),
        with_status,
    ),
    WritePath(
        "member_status.delete", status, lambda db, g: db.member_status.delete((g, MEMBER)), with_status
    ),
    WritePath(
        "member_status.upsert", status, lambda db, g: raw(db.member_status).upsert(status_data(g)), ensure
    ),
    moderation("ban_user"),
    moderation("unban_user", ("ban_user", ())),
    moderation("hackban_user"),
    moderation("tempban_user"),
    moderation("jail_user"),
    moderation("unjail_user", ("jail_user", ([7],))),
    moderation("timeout_user"),
    moderation("untimeout_user", ("timeout_user", (utcnow() + 2 * HOUR,))),
    moderation("snippetban_user"),
    moderation("snippetunban_user", ("snippetban_user", ())),
    moderation("pollban_user"),
    moderation("pollunban_user", ("pollban_user", ())),
    WritePath(
        "moderation.void_case",
        banned,
        lambda db, g: db.moderation.void_case(g, 1, "mistake", MOD),
        lambda db, g: db.moderation.ban_user(g, MEMBER, "x", MOD),
    ),
    WritePath(
        "moderation.process_expired_tempbans",
        banned,
        lambda db, g: db.moderation.process_expired_tempbans(now=utcnow() + 2 * HOUR),
        lambda db, g: db.moderation.tempban_user(g, MEMBER, "x", MOD, utcnow() + HOUR),
    ),
    WritePath("moderation.ban_user (case)", case, lambda db, g: db.moderation.ban_user(g, MEMBER, "x", MOD)),
    # cases
    WritePath("cases.create", case, lambda db, g: db.cases.create(case_data(g)), ensure),
    WritePath(
        "cases.update",
        case,
        lambda db, g: then(case_id(db, g), lambda i: db.cases.update(i, {"case_reason": "edited"})),
        with_case,
    ),
    WritePath("cases.delete", case, lambda db, g: then(case_id(db, g), db.cases.delete), with_case),
    WritePath(
        "cases.upsert",
        case,
        lambda db, g: then(
            case_id(db, g), lambda i: raw(db.cases).upsert(case_data(g, id=i, case_reason="u"))
        ),
        with_case,
    ),
    WritePath("cases.void", case, lambda db, g: db.cases.void(g, 1, "mistake", utcnow()), with_case),
    WritePath(
        "cases.claim_expired_tempbans",
        case,
        lambda db, g: db.cases.claim_expired_tempbans(utcnow() + 2 * HOUR),
        lambda db, g: db.moderation.tempban_user(g, MEMBER, "x", MOD, utcnow() + HOUR),
    ),
    # AFK
    WritePath("afk.set_afk", afk, lambda db, g: db.afk.set_afk(afk_data(g)), ensure),
    WritePath("afk.remove", afk, lambda db, g: db.afk.remove(guild_id=g, member_id=MEMBER), with_afk),
    WritePath("afk.create", afk, lambda db, g: db.afk.create(afk_data(g)), ensure),
    WritePath("afk.update", afk, lambda db, g: db.afk.update((MEMBER, g), {"reason": "away"}), with_afk),
    WritePath("afk.delete", afk, lambda db, g: db.afk.delete((MEMBER, g)), with_afk),
    WritePath("afk.upsert", afk, lambda db, g: raw(db.afk).upsert(afk_data(g, "gone")), with_afk),
    WritePath("afk_service.set_afk", afk, lambda db, g: db.afk_service.set_afk(g, MEMBER, "nick", "brb")),
    WritePath("afk_service.clear_afk", afk, lambda db, g: db.afk_service.clear_afk(g, MEMBER), with_afk),
    WritePath(
        "afk_service.clear_expired",
        afk,
        lambda db, g: db.afk_service.clear_expired(now=utcnow() + 2 * HOUR),
        lambda db, g: db.afk_service.set_afk(g, MEMBER, "n", "r", until=utcnow() + HOUR),
    ),
    # levels
    WritePath(
        "levels.add_xp", levels, lambda db, g: db.levels.add_xp(guild_id=g, member_id=MEMBER, amount=3)
    ),
    WritePath(
        "levels.set_xp",
        levels,
        lambda db, g: db.levels.set_xp(guild_id=g, member_id=MEMBER, xp=80, level=2),
        with_levels,
    ),
    WritePath(
        "levels.set_blacklisted",
        levels,
        lambda db, g: db.levels.set_blacklisted(guild_id=g, member_id=MEMBER, blacklisted=True),
        with_levels,
    ),
    WritePath(
        "levels.create",
        levels,
        lambda db, g: db.levels.create({"guild_id": g, "member_id": MEMBER, "xp": 4.0}),
        ensure,
    ),
    WritePath("levels.update", levels, lambda db, g: db.levels.update((MEMBER, g), {"xp": 7.0}), with_levels),
    WritePath("levels.delete", levels, lambda db, g: db.levels.delete((MEMBER, g)), with_levels),
    WritePath(
        "levels.upsert",
        levels,
        lambda db, g: raw(db.levels).upsert({"guild_id": g, "member_id": MEMBER, "xp": 9.0}),
        with_levels,
    ),
    WritePath("levels_service.set_xp", levels, lambda db, g: db.levels_service.set_xp(g, MEMBER, 500)),
    WritePath(
        "levels_service.reset_xp", levels, lambda db, g: db.levels_service.reset_xp(g, MEMBER), with_levels
    ),
    WritePath(
        "levels_service.process_message",
        levels,
        lambda db, g: db.levels_service.process_message(g, MEMBER, 9, []),
    ),
    WritePath(
        "levels_service.process_message (level up)",
        levels,
        lambda db, g: db.levels_service.process_message(g, MEMBER, 9, []),
        with_levels,
    ),
    WritePath(
        "levels_activity.award_if_cooled_down",
        message_state,
        lambda db, g: activity(db).award_if_cooled_down(
            guild_id=g, member_id=MEMBER, amount=5, now=utcnow(), cooldown_seconds=60, create_guild=True
        ),
        covers=("ILevelsActivityRepository.award_if_cooled_down",),
    ),
    WritePath(
        "levels_activity.store_level",
        message_state,
        lambda db, g: activity(db).store_level(guild_id=g, member_id=MEMBER, level=4),
        with_levels,
        covers=("ILevelsActivityRepository.store_level",),
    ),
    # levelling setup
    WritePath(
        "levels_config.create",
        message_state,
        lambda db, g: db.levels_config.create({"guild_id": g, "base_xp": 4.0}),
        ensure,
    ),
    WritePath(
        "levels_config.update",
        message_state,
        lambda db, g: db.levels_config.update(g, {"base_xp": 3.0}),
        with_levels_config,
    ),
    WritePath(
        "levels_config.delete", message_state, lambda db, g: db.levels_config.delete(g), with_levels_config
    ),
    WritePath(
        "levels_config.upsert",
        message_state,
        lambda db, g: raw(db.levels_config).upsert({"guild_id": g, "base_xp": 2.5}),
        with_levels_config,
    ),
    WritePath(
        "levels_config.set_role_reward",
        rewards,
        lambda db, g: db.levels_config.set_role_reward(g, 5, 77),
        ensure,
    ),
    WritePath(
        "levels_config.set_role_multiplier",
        message_state,
        lambda db, g: db.levels_config.set_role_multiplier(g, 77, 1.5),
        ensure,
    ),
    WritePath(
        "levels_config.set_channel_blacklisted",
        message_state,
        lambda db, g: db.levels_config.set_channel_blacklisted(g, 9, True),
        ensure,
    ),
    # snippets
    WritePath(
        "snippets.create",
        snippet,
        lambda db, g: db.snippets.create(
            {"guild_id": g, "snippet_name": "tip", "snippet_content": "x", "snippet_user_id": MOD}
        ),
        ensure,
    ),
    WritePath(
        "snippets.update",
        snippet,
        lambda db, g: then(snippet_id(db, g), lambda i: db.snippets.update(i, {"snippet_content": "y"})),
        with_snippet,
    ),
    WritePath(
        "snippets.delete", snippet, lambda db, g: then(snippet_id(db, g), db.snippets.delete), with_snippet
    ),
    WritePath(
        "snippets.upsert",
        snippet,
        lambda db, g: then(
            snippet_id(db, g),
            lambda i: raw(db.snippets).upsert(
                {
                    "snippet_id": i,
                    "guild_id": g,
                    "snippet_name": "tip",
                    "snippet_content": "z",
                    "snippet_user_id": MOD,
                }
            ),
        ),
        with_snippet,
    ),
    WritePath("snippets.use", alias, lambda db, g: db.snippets.use(g, "hint"), with_snippet),
    WritePath(
        "snippet_service.create", snippet, lambda db, g: db.snippet_service.create(g, "tip", "new", MOD)
    ),
    WritePath(
        "snippet_service.create_alias",
        alias,
        lambda db, g: db.snippet_service.create_alias(g, "hint", "tip", MOD),
        lambda db, g: db.snippet_service.create(g, "tip", "text", MOD),
    ),
    WritePath("snippet_service.get", snippet, lambda db, g: db.snippet_service.get(g, "tip"), with_snippet),
    WritePath(
        "snippet_service.edit",
        snippet,
        lambda db, g: db.snippet_service.edit(g, "tip", "edited", MOD, is_moderator=True),
        with_snippet,
    ),
    WritePath(
        "snippet_service.set_locked",
        snippet,
        lambda db, g: db.snippet_service.set_locked(g, "tip", True),
        with_snippet,
    ),
    WritePath(
        "snippet_service.delete",
        alias,
        lambda db, g: db.snippet_service.delete(g, "tip", MOD, is_moderator=True),
        with_snippet,
    ),
    # starboard
    WritePath(
        "starboards.upsert_starboard",
        starboard,
        lambda db, g: db.starboards.upsert_starboard(g, {"starboard_channel_id": 2, "starboard_emoji": "!"}),
    ),
    WritePath(
        "starboards.create",
        starboard,
        lambda db, g: db.starboards.create(
            {"guild_id": g, "starboard_channel_id": 1, "starboard_emoji": "+"}
        ),
        ensure,
    ),
    WritePath(
        "starboards.update",
        starboard,
        lambda db, g: db.starboards.update(g, {"starboard_threshold": 3}),
        with_starboard,
    ),
    WritePath("starboards.delete", starboard, lambda db, g: db.starboards.delete(g), with_starboard),
    WritePath(
        "starboards.upsert",
        starboard,
        lambda db, g: raw(db.starboards).upsert(
            {"guild_id": g, "starboard_channel_id": 1, "starboard_emoji": "%"}
        ),
        with_starboard,
    ),
]
