from dataclasses import dataclass


@dataclass(frozen=True)
class Parcel:
    weight_kg: float
    volume_l: float
    fragile: bool = False


def billable_weight(parcel, litres_per_kg=5.0):
    """Volumetric weight when the parcel is bulky, else its real weight."""
    volumetric = parcel.weight_kg / litres_per_kg
    return max(parcel.weight_kg, volumetric)
