"""Address -> node, as pure functions over a hand-built tree (no database)."""

from __future__ import annotations

from fangkong.screening.placing import Node, Placer


def _tree() -> Placer:
    city = Node(1, "4409", "茂名市", 1, "/4409/")
    p = Placer(root=city)
    nodes = [
        (city, Node(2, "440902", "茂南区", 2, "/4409/440902/")),
        (city, Node(3, "440904", "电白区", 2, "/4409/440904/")),
        (p_of := Node(2, "440902", "茂南区", 2, "/4409/440902/"), Node(4, "t1", "红旗街道", 3, "")),
        (p_of, Node(5, "t2", "新华街道", 3, "")),
        (Node(3, "440904", "", 2, ""), Node(6, "t3", "红旗街道", 3, "")),  # the same name elsewhere
        (Node(4, "t1", "", 3, ""), Node(7, "v1", "明镜社区", 4, "")),
        (Node(4, "t1", "", 3, ""), Node(8, "v2", "明镜东社区", 4, "")),
        (Node(5, "t2", "", 3, ""), Node(9, "v3", "明镜社区", 4, "")),  # same name, second town
        (Node(7, "v1", "", 4, ""), Node(10, "g1", "一组", 5, "")),
        (Node(10, "g1", "", 5, ""), Node(11, "grid1", "一网格", 6, "")),
    ]
    for parent, child in nodes:
        p.by_id[child.id] = child
        p.children.setdefault(parent.id, []).append(child)
    p.grids_below = {7: [p.by_id[11]], 10: [p.by_id[11]], 4: [p.by_id[11]]}
    return p


def test_the_walk_follows_names_down_and_a_single_grid_below_places() -> None:
    node, placed = _tree().place("茂南区 红旗街道明镜社区 12栋")
    assert (node.id, placed) == (11, True)


def test_a_missing_level_is_skipped_and_the_first_of_equal_names_wins() -> None:
    # No town named: 明镜社区 exists under two towns of 茂南区; the first one is taken.
    node, placed = _tree().place("茂南区明镜社区3号")
    assert (node.id, placed) == (11, True)  # via 明镜社区 of 红旗街道, which has one grid


def test_the_longest_name_found_wins() -> None:
    node, placed = _tree().place("茂南区红旗街道明镜东社区")
    assert (node.id, placed) == (8, False)


def test_an_address_naming_nothing_stays_at_the_root_unplaced() -> None:
    node, placed = _tree().place("  某地某路 ")
    assert (node.id, placed) == (1, False)
