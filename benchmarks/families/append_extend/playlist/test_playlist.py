from playlist import Playlist


def test_tracks_queued():
    playlist = Playlist("road")
    playlist.add_album({"tracks": [{"seconds": 100}, {"seconds": 50}]})
    assert len(playlist.tracks) == 2


def test_duration():
    playlist = Playlist("road")
    playlist.add_album({"tracks": [{"seconds": 100}]})
    playlist.add_album({"tracks": [{"seconds": 20}, {"seconds": 5}]})
    assert playlist.duration() == 125
