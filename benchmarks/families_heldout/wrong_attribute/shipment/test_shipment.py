from shipment import Parcel, billable_weight


def test_heavy_small_parcel():
    assert billable_weight(Parcel(weight_kg=10, volume_l=5)) == 10


def test_light_bulky_parcel():
    assert billable_weight(Parcel(weight_kg=1, volume_l=50)) == 10.0


def test_rate():
    assert billable_weight(Parcel(2, 60), litres_per_kg=6) == 10.0
